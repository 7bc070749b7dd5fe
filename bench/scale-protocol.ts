/** What the scale suite's processes say to each other (bench/scale.ts, scale-clients.ts, scale-raw-server.ts). */

export interface ConnectRequest {
  url: string;
  protocol: 'graphql-ws' | 'raw';
  sockets: number;
  /** Sockets (the first ones) that carry a second subscription, or ask the raw server for two copies. */
  doubled: number;
  /** graphql-ws only. */
  token?: string;
  query?: string;
  /** Handshakes in flight at once. */
  concurrency: number;
}

export interface RoundResult {
  /** Wall-clock receipt times (ms since the epoch) of this round's messages. */
  receivedAt: number[];
  /** Messages of the round that carried GraphQL errors. */
  errors: number;
  /** One message as received, for the raw server to send the same bytes. */
  sample?: string;
}

/** The raw server sends a socket that says this two copies of every broadcast (bench/scale-raw-server.ts). */
export const RAW_DOUBLE_REQUEST = 'twice';
