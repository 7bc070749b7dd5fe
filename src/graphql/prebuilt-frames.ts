/**
 * One WebSocket frame for many sockets. A server's frames are not masked (RFC 6455 §5.1), so the
 * frame of a message is the same bytes on every socket: built once, it is written to each socket's
 * TCP stream as one chunk, instead of `ws` framing it again per socket (an options object, a
 * header buffer, a cork and two writes each). That per-message work is what limits a stream of
 * events to a few hundred sockets (bench fan-out: +20-30 % events/s); one event to 20,000 sockets
 * is bound by the one write system call per socket, which stays.
 *
 * Written past `ws` only while nothing of its own can come between: the socket is open, its
 * sender is idle (nothing queued, compressing or being read from a Blob, no fragmented message
 * half sent) and permessage-deflate is off for it. Both writers then append to the same stream in
 * call order, so frames never interleave and messages keep the order they were sent in;
 * otherwise `ws.send` queues the message behind the rest as usual.
 */
import type { WebSocket } from 'ws';

/** The parts of `ws` (8.x) internals this relies on; checked per socket, so another layout falls back. */
interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean; destroyed?: boolean } | null;
  _extensions?: Record<string, unknown>;
  _sender?: { _state?: number; _queue?: unknown[]; _firstFragment?: boolean } | null;
}

const OPCODE_TEXT = 0x1;
const FIN = 0x80;
/** `ws`'s Sender state when it is neither compressing nor waiting on a Blob (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;
/** RFC 7692: with it, `ws` may compress a message, so it must frame every message itself. */
const PERMESSAGE_DEFLATE = 'permessage-deflate';
const OPEN = 1;

/** An unmasked, final text frame carrying `payload` (RFC 6455 §5.2: 7-bit, 16-bit or 64-bit length). */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = FIN | OPCODE_TEXT;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/** Whether `frame` may go straight to `socket`'s TCP stream now, ahead of nothing `ws` still holds. */
function canWriteDirectly(socket: WebSocket): boolean {
  const { _socket: stream, _sender: sender, _extensions: extensions } = socket as unknown as WsInternals;
  return (
    socket.readyState === OPEN &&
    !!stream &&
    !stream.destroyed &&
    !!extensions &&
    extensions[PERMESSAGE_DEFLATE] === undefined &&
    !!sender &&
    sender._state === SENDER_IDLE &&
    sender._queue?.length === 0 &&
    sender._firstFragment === true
  );
}

/**
 * Sends `message` (a text message) on `socket`: the prebuilt `frame` of it (from {@link textFrame})
 * straight to the TCP stream when `ws` has nothing of its own in flight, else through `ws.send`.
 * Either way it counts in `socket.bufferedAmount` until written.
 */
export function sendTextFrame(socket: WebSocket, message: Buffer, frame: Buffer): void {
  if (canWriteDirectly(socket)) (socket as unknown as { _socket: { write(chunk: Buffer): boolean } })._socket.write(frame);
  else socket.send(message, { binary: false });
}
