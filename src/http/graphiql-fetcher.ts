/**
 * The fetcher GraphiQL runs in the browser, as plain script text (it is inlined into the page,
 * so it is not compiled with the server). Queries and mutations are POSTed with the Headers
 * panel's headers; a subscription opens its own graphql-ws socket and sends the panel's
 * `Authorization` as `connectionParams.authorization`, which is where the server reads it. Yoga's
 * stock fetcher sends an empty `connection_init` and silently retries the refusal, so a
 * subscription spun forever.
 *
 * A refused subscription ends with an error result instead of a retry: for a refusal at
 * `connection_init` (close 4403) the page asks the server over HTTP, with the same headers, why
 * the token is not accepted, and shows that answer.
 */
export const GRAPHIQL_FETCHER_SCRIPT = String.raw`
(function () {
  'use strict';

  function headerValue(headers, name) {
    for (var key in headers || {}) if (key.toLowerCase() === name) return String(headers[key]);
    return undefined;
  }

  function isSubscription(params, options) {
    var document = options && options.documentAST;
    if (document && document.definitions) {
      var operations = document.definitions.filter(function (definition) { return definition.kind === 'OperationDefinition'; });
      var chosen = operations.filter(function (operation) { return !params.operationName || (operation.name && operation.name.value === params.operationName); })[0];
      return Boolean(chosen && chosen.operation === 'subscription');
    }
    // No parsed document (an old GraphiQL): look at the source, comments and strings removed.
    var source = String(params.query || '').replace(/"""[\s\S]*?"""|"(?:\\.|[^"\\])*"|#[^\n]*/g, ' ');
    var named = params.operationName ? new RegExp('\\b(query|mutation|subscription)\\s+' + params.operationName + '\\b').exec(source) : null;
    var first = named || /\b(query|mutation|subscription)\b|\{/.exec(source);
    return Boolean(first && first[1] === 'subscription');
  }

  async function postJson(url, body, headers) {
    var response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: Object.assign({ 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' }, headers),
      body: JSON.stringify(body),
    });
    var text = await response.text();
    try {
      return JSON.parse(text);
    } catch (error) {
      return { errors: [{ message: 'HTTP ' + response.status + ': ' + text.slice(0, 500) }] };
    }
  }

  /** Why the server refuses these headers, in its own words (it answers HTTP 401 with a reason). */
  async function refusalReason(url, headers) {
    if (!headerValue(headers, 'authorization')) return 'the Headers panel has no Authorization header';
    try {
      var answer = await postJson(url, { query: '{ __typename }' }, headers);
      var error = answer && answer.errors && answer.errors[0];
      if (!error) return 'the token was refused when the socket opened';
      var reason = error.extensions && error.extensions.reason;
      return 'the token was refused: ' + error.message + (reason ? ' (' + reason + ')' : '');
    } catch (problem) {
      return 'the token was refused, and the server could not be asked why (' + problem + ')';
    }
  }

  function subscribe(url, params, headers) {
    var wsUrl = url.replace(/^http/, 'ws');
    var queue = [];
    var wake = null;
    var finished = false;
    var acknowledged = false;
    var push = function (item) {
      queue.push(item);
      if (wake) { wake(); wake = null; }
    };
    var socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    var send = function (message) { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message)); };
    socket.onopen = function () {
      var authorization = headerValue(headers, 'authorization');
      send({ type: 'connection_init', payload: authorization ? { authorization: authorization } : {} });
    };
    socket.onmessage = function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (error) { return; }
      if (message.type === 'connection_ack') {
        acknowledged = true;
        send({ id: '1', type: 'subscribe', payload: { query: params.query, variables: params.variables || undefined, operationName: params.operationName || undefined } });
      } else if (message.type === 'ping') {
        send({ type: 'pong' });
      } else if (message.type === 'next') {
        push({ value: message.payload });
      } else if (message.type === 'error') {
        push({ value: { errors: message.payload } });
        push({ end: true });
      } else if (message.type === 'complete') {
        push({ end: true });
      }
    };
    socket.onclose = function (event) { if (!finished) push({ closed: event }); };

    async function closedResult(event) {
      var code = event.code + (event.reason ? ' ' + event.reason : '');
      if (!acknowledged && (event.code === 4403 || event.code === 4401)) {
        var why = await refusalReason(url, headers);
        return { errors: [{
          message: 'Subscription refused (WebSocket closed with ' + code + '): ' + why +
            '. Put {"Authorization": "Bearer <token>"} in the Headers panel (npm run token -- --tenant <id>) and run it again.',
          extensions: { code: 'UNAUTHENTICATED', closeCode: event.code },
        }] };
      }
      return { errors: [{
        message: acknowledged
          ? 'The subscription ended: the WebSocket closed with ' + code + ' (the server stopped or restarted?). Run it again.'
          : 'The WebSocket closed before the server accepted it (' + code + ').',
        extensions: { closeCode: event.code },
      }] };
    }

    return (async function* () {
      try {
        for (;;) {
          while (queue.length === 0) await new Promise(function (resolve) { wake = resolve; });
          var item = queue.shift();
          if (item.end) return;
          if (item.closed) { yield await closedResult(item.closed); return; }
          yield item.value;
        }
      } finally {
        finished = true;
        if (acknowledged) send({ id: '1', type: 'complete' });
        if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close(1000, 'done');
      }
    })();
  }

  function createFetcher(endpoint) {
    var url = new URL(endpoint || location.pathname, location.href).toString();
    return function (params, options) {
      var headers = (options && options.headers) || {};
      return isSubscription(params, options) ? subscribe(url, params, headers) : postJson(url, params, headers);
    };
  }

  window.PulseGraphiQL = {
    createFetcher: createFetcher,
    render: function (root, options) {
      // Without an endpoint yoga's renderer does not warn that the fetcher replaces it.
      return YogaGraphiQL.renderYogaGraphiQL(root, Object.assign({}, options, { fetcher: createFetcher(options.endpoint), endpoint: undefined }));
    },
  };
})();
`;
