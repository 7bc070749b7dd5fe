/**
 * A small client of Pulse's public GraphQL API over HTTP, for the device simulator and the demo
 * fleet: they provision through the same API as any user, so what they create is what a user
 * would have created by hand (and a broken mutation shows up here as it would for them).
 */

/** A credential set as `registerDevice` / `rotateDeviceCredentials` return it (once). */
export interface DeviceCredentials {
  username: string;
  password: string;
  topicPrefix: string;
}

export interface DeviceSpec {
  deviceId: string;
  name: string;
  siteId?: string;
  model?: string;
  firmwareVersion?: string;
  tags?: Array<{ key: string; value: string }>;
}

/** A GraphQL error or a typed error result, with the server's message. */
export class PulseApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'PulseApiError';
  }
}

type GraphQLResponse<T> = { data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };

/** A mutation's result union as selected by {@link PulseApi.mutateMany}: a payload or a typed error. */
export type MutationResult<P> = ({ __typename: `${string}Payload` } & P) | { __typename: string; message: string; code: string };

export const isPayload = <P>(result: MutationResult<P>): result is { __typename: `${string}Payload` } & P => result.__typename.endsWith('Payload');

/** Aliases per document: the server accepts at most 30 (GraphQL limits), leave room for `__typename`. */
const BATCH = 20;

export class PulseApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  /** Runs one operation; GraphQL errors (auth, limits, unexpected) throw with the server's message. */
  async request<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new PulseApiError(`cannot reach ${this.url}: ${(error as Error).cause ?? (error as Error).message}`, 'UNREACHABLE');
    }
    const text = await response.text();
    let body: GraphQLResponse<T>;
    try {
      body = JSON.parse(text) as GraphQLResponse<T>;
    } catch {
      throw new PulseApiError(`${this.url} answered HTTP ${response.status}: ${text.slice(0, 200)}`, 'BAD_RESPONSE');
    }
    const error = body.errors?.[0];
    if (error) throw new PulseApiError(error.message, error.extensions?.code ?? 'GRAPHQL_ERROR');
    if (!body.data) throw new PulseApiError(`${this.url} answered HTTP ${response.status} without data`, 'BAD_RESPONSE');
    return body.data;
  }

  /**
   * Runs `field(input: …)` once per input, 20 per document (one transaction each), and returns the
   * result unions in input order. `selection` selects on the payload type.
   */
  async mutateMany<P>(field: string, inputType: string, selection: string, inputs: readonly object[]): Promise<Array<MutationResult<P>>> {
    const results: Array<MutationResult<P>> = [];
    for (let start = 0; start < inputs.length; start += BATCH) {
      const chunk = inputs.slice(start, start + BATCH);
      const variables = Object.fromEntries(chunk.map((input, index) => [`i${index}`, input]));
      const declarations = chunk.map((_, index) => `$i${index}: ${inputType}!`).join(', ');
      const fields = chunk
        .map((_, index) => `r${index}: ${field}(input: $i${index}) { __typename ... on Error { message code } ${selection} }`)
        .join('\n');
      const data = await this.request<Record<string, MutationResult<P>>>(`mutation (${declarations}) {\n${fields}\n}`, variables);
      chunk.forEach((_, index) => results.push(data[`r${index}`]!));
    }
    return results;
  }

  /** {@link mutateMany} for one input, throwing a typed error as {@link PulseApiError}. */
  async mutate<P>(field: string, inputType: string, selection: string, input: object): Promise<P> {
    const [result] = await this.mutateMany<P>(field, inputType, selection, [input]);
    if (!result || !isPayload(result)) throw asError(field, result);
    return result;
  }

  /**
   * Registers each device, or (already registered) issues it new credentials: either way the
   * caller gets a password it can log in with. Credentials are shown once, so reuse means rotation.
   */
  async ensureDevices(specs: readonly DeviceSpec[]): Promise<Map<string, DeviceCredentials>> {
    const credentialsSelection = '... on RegisterDevicePayload { credentials { username password topicPrefix } }';
    const registered = await this.mutateMany<{ credentials: DeviceCredentials }>('registerDevice', 'RegisterDeviceInput', credentialsSelection, specs);
    const credentials = new Map<string, DeviceCredentials>();
    const existing: string[] = [];
    registered.forEach((result, index) => {
      const deviceId = specs[index]!.deviceId;
      if (isPayload(result)) credentials.set(deviceId, result.credentials);
      else if (result.__typename === 'AlreadyExists') existing.push(deviceId);
      else throw asError(`registerDevice ${deviceId}`, result);
    });
    const rotated = await this.mutateMany<{ credentials: DeviceCredentials }>(
      'rotateDeviceCredentials',
      'RotateDeviceCredentialsInput',
      '... on RotateDeviceCredentialsPayload { credentials { username password topicPrefix } }',
      existing.map((deviceId) => ({ deviceId })),
    );
    rotated.forEach((result, index) => {
      if (!isPayload(result)) throw asError(`rotateDeviceCredentials ${existing[index]}`, result);
      credentials.set(existing[index]!, result.credentials);
    });
    return credentials;
  }
}

function asError(what: string, result: MutationResult<unknown> | undefined): PulseApiError {
  if (!result) return new PulseApiError(`${what}: no result`, 'BAD_RESPONSE');
  const { message, code } = result as { message?: string; code?: string };
  return new PulseApiError(`${what}: ${result.__typename}${message ? `: ${message}` : ''}`, code ?? result.__typename);
}
