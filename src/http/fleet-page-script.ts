/**
 * Every operation the fleet page sends, kept here rather than inside the script text so a test
 * validates each against the schema (a field renamed in the schema would otherwise only show as a
 * refused subscription in the browser).
 */
export const FLEET_PAGE_OPERATIONS = {
  counts: 'query FleetCounts { fleetSummary(groupBy: [STATUS]) { total buckets { count values { value } } } }',
  connectivity: 'subscription FleetConnectivity { deviceConnectivityChanged { deviceId previousStatus status reason occurredAt } }',
  registry: 'subscription FleetRegistry { deviceChanged { change deviceId } }',
  links: 'subscription FleetLinks { wirelessLinkStateChanged { apDeviceId cpeMac cpeDeviceId fromState toState reason occurredAt } }',
  commands: 'subscription FleetCommands { commandStatusChanged { commandId deviceId status occurredAt command { commandType } } }',
  alerts: 'subscription FleetAlerts { alertChanged { alertId deviceId change severity occurredAt alert { metric value rule { name } } } }',
} as const;

/**
 * The live fleet page's script, as plain text served at `/fleet.js`: it runs in the browser as is
 * (no build step, no CDN), so it is written in the JavaScript every current browser runs and speaks
 * the graphql-ws protocol (`graphql-transport-ws`) itself rather than loading a client library.
 *
 * One socket carries every subscription; the token goes in `connectionParams.authorization`, where
 * the server reads it. A refusal (close 4403) is shown and not retried, since retrying the same
 * token cannot succeed; any other close reconnects with a growing delay and re-reads the counts, so
 * nothing that happened while the socket was down is missing from them.
 */
export const FLEET_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';

  var GRAPHQL_PATH = '/graphql';
  var OPERATIONS = ${JSON.stringify(FLEET_PAGE_OPERATIONS)};
  var TOKEN_KEY = 'pulse.fleet.token';
  var FEED_LENGTH = 50;
  var STATUSES = ['ONLINE', 'STALE', 'OFFLINE'];

  var SUBSCRIPTIONS = {
    connectivity: {
      label: 'connectivity',
      query: OPERATIONS.connectivity,
      describe: function (data) {
        var event = data.deviceConnectivityChanged;
        return { at: event.occurredAt, device: event.deviceId, text: (event.previousStatus || 'NEW') + ' → ' + event.status + ' (' + event.reason + ')', tone: event.status };
      },
      refreshesCounts: true,
    },
    registry: {
      label: 'registry',
      query: OPERATIONS.registry,
      describe: function (data) {
        var event = data.deviceChanged;
        return { device: event.deviceId, text: event.change, tone: event.change };
      },
      refreshesCounts: true,
    },
    links: {
      label: 'link',
      query: OPERATIONS.links,
      describe: function (data) {
        var event = data.wirelessLinkStateChanged;
        var ends = event.apDeviceId + ' → ' + (event.cpeDeviceId || event.cpeMac);
        return { at: event.occurredAt, device: ends, text: (event.fromState || 'NEW') + ' → ' + event.toState + ' (' + event.reason + ')', tone: event.toState };
      },
    },
    commands: {
      label: 'command',
      query: OPERATIONS.commands,
      describe: function (data) {
        var event = data.commandStatusChanged;
        var type = event.command ? event.command.commandType : event.commandId;
        return { at: event.occurredAt, device: event.deviceId, text: type + ': ' + event.status, tone: event.status };
      },
    },
    alerts: {
      label: 'alert',
      query: OPERATIONS.alerts,
      describe: function (data) {
        var event = data.alertChanged;
        var alert = event.alert;
        var message = alert ? ': ' + alert.rule.name + (alert.metric ? ' (' + alert.metric + ' = ' + alert.value + ')' : '') : '';
        return { at: event.occurredAt, device: event.deviceId, text: event.severity + ' ' + event.change + message, tone: event.change === 'RAISED' ? event.severity : event.change };
      },
    },
  };

  var elements = {
    form: document.getElementById('token-form'),
    token: document.getElementById('token'),
    state: document.getElementById('connection-state'),
    total: document.getElementById('count-total'),
    feed: document.getElementById('feed'),
    empty: document.getElementById('feed-empty'),
  };

  var developmentToken = document.querySelector('meta[name="pulse-development-token"]');
  var storedTokenMayFallBack = false;
  var socket = null;
  var retryDelay = 500;
  var retryTimer = null;
  var countsTimer = null;
  var nextId = 1;
  var operations = {};

  function bearer(token) {
    token = token.trim();
    return /^bearer\s/i.test(token) ? token : 'Bearer ' + token;
  }

  function currentToken() {
    return elements.token.value.trim();
  }

  function showState(state, text) {
    elements.state.dataset.state = state;
    elements.state.textContent = text;
  }

  async function query(text, variables) {
    var response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: bearer(currentToken()) },
      body: JSON.stringify({ query: text, variables: variables || {} }),
    });
    var body = await response.json().catch(function () { return { errors: [{ message: 'HTTP ' + response.status }] }; });
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  async function refreshCounts() {
    try {
      var data = await query(OPERATIONS.counts);
      var byStatus = {};
      data.fleetSummary.buckets.forEach(function (bucket) { byStatus[bucket.values[0].value] = bucket.count; });
      elements.total.textContent = String(data.fleetSummary.total);
      STATUSES.forEach(function (status) {
        document.getElementById('count-' + status.toLowerCase()).textContent = String(byStatus[status] || 0);
      });
    } catch (error) {
      showState('error', 'Counts could not be read: ' + error.message);
    }
  }

  /** Bursts of presence changes (a fleet reconnecting) cost one re-read, not one each. */
  function scheduleCounts() {
    if (countsTimer) return;
    countsTimer = setTimeout(function () {
      countsTimer = null;
      refreshCounts();
    }, 250);
  }

  function addToFeed(kind, entry) {
    elements.empty.hidden = true;
    var row = document.createElement('li');
    row.className = 'event';
    row.dataset.kind = kind;
    row.dataset.tone = entry.tone || '';
    var cells = [
      ['time', entry.at ? new Date(entry.at).toLocaleTimeString() : ''],
      ['kind', SUBSCRIPTIONS[kind].label],
      ['device', entry.device || ''],
      ['text', entry.text],
    ];
    cells.forEach(function (cell) {
      var span = document.createElement('span');
      span.className = cell[0];
      span.textContent = cell[1];
      row.appendChild(span);
    });
    elements.feed.insertBefore(row, elements.feed.firstChild);
    while (elements.feed.children.length > FEED_LENGTH) elements.feed.removeChild(elements.feed.lastChild);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function subscribeAll() {
    operations = {};
    Object.keys(SUBSCRIPTIONS).forEach(function (kind) {
      var id = String(nextId++);
      operations[id] = kind;
      send({ id: id, type: 'subscribe', payload: { query: SUBSCRIPTIONS[kind].query } });
    });
  }

  function onMessage(raw) {
    var message;
    try {
      message = JSON.parse(raw.data);
    } catch (error) {
      return;
    }
    if (message.type === 'connection_ack') {
      retryDelay = 500;
      showState('live', 'Live: streaming connectivity, link, command and alert events');
      subscribeAll();
      refreshCounts();
      return;
    }
    if (message.type === 'ping') return send({ type: 'pong' });
    var kind = operations[message.id];
    if (!kind) return;
    var subscription = SUBSCRIPTIONS[kind];
    if (message.type === 'next') {
      var payload = message.payload || {};
      if (payload.errors && payload.errors.length && !payload.data) {
        addToFeed(kind, { text: 'error: ' + payload.errors[0].message, tone: 'error' });
        return;
      }
      addToFeed(kind, subscription.describe(payload.data));
      if (subscription.refreshesCounts) scheduleCounts();
    } else if (message.type === 'error') {
      var errors = Array.isArray(message.payload) ? message.payload : [];
      addToFeed(kind, { text: 'subscription refused: ' + (errors[0] ? errors[0].message : 'unknown error'), tone: 'error' });
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    if (socket) {
      socket.onclose = null;
      socket.close(1000);
    }
    var token = currentToken();
    if (!token) {
      showState('idle', 'Paste a token to start (npm run token prints one)');
      return;
    }
    showState('connecting', 'Connecting…');
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + GRAPHQL_PATH;
    var opened = new WebSocket(url, 'graphql-transport-ws');
    socket = opened;
    opened.onopen = function () {
      opened.send(JSON.stringify({ type: 'connection_init', payload: { authorization: bearer(token) } }));
    };
    opened.onmessage = onMessage;
    opened.onclose = function (event) {
      if (socket !== opened) return;
      socket = null;
      if (event.code === 4403 || event.code === 4401) {
        // A token kept from an earlier run (another data directory) gives way to this server's own.
        if (storedTokenMayFallBack) {
          storedTokenMayFallBack = false;
          elements.token.value = developmentToken.content;
          connect();
          return;
        }
        showState('refused', 'The token was refused (' + (event.reason || event.code) + ')');
        // The socket says only "Forbidden"; the server says why over HTTP, for the same token.
        query('query WhyRefused { __typename }').then(
          function () { showState('refused', 'The token was refused when the socket opened: paste another one'); },
          function (error) { showState('refused', 'The token was refused: ' + error.message + '. Paste another one.'); }
        );
        return;
      }
      showState('reconnecting', 'Disconnected (' + event.code + '); reconnecting…');
      retryTimer = setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    };
  }

  elements.form.addEventListener('submit', function (event) {
    event.preventDefault();
    storedTokenMayFallBack = false;
    var token = currentToken();
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (error) {
      // Storage can be disabled (private windows); the page works without it.
    }
    connect();
  });

  var stored = null;
  try {
    stored = localStorage.getItem(TOKEN_KEY);
  } catch (error) {
    stored = null;
  }
  elements.token.value = stored || (developmentToken ? developmentToken.content : '');
  storedTokenMayFallBack = Boolean(stored && developmentToken && stored !== developmentToken.content);
  connect();
})();
`;
