/**
 * One WebSocket frame for many sockets. A server's frames are not masked (RFC 6455 §5.1), so the
 * frame of a message is the same bytes on every socket: built once, it is written to each socket's
 * TCP stream as one chunk, instead of `ws` framing it again per socket (an options object, a
 * header buffer, a cork and two writes each). On 20,000 sockets that per-socket work is most of
 * what a broadcast costs besides the system calls themselves.
 *
 * Written past `ws` only while its sender is idle (nothing queued or being compressed), so frames
 * never interleave and messages stay in the order they were sent; otherwise `ws.send` queues it
 * behind the rest as usual.
 */
import type { WebSocket } from 'ws';

/** The parts of `ws` internals this relies on; checked per socket, so another version falls back. */
interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean; destroyed?: boolean };
  _sender?: { _state?: number; _queue?: unknown[] };
}

const OPCODE_TEXT = 0x1;
const FIN = 0x80;
/** `ws`'s Sender state when it is not compressing or waiting on a Blob (lib/sender.js `DEFAULT`). */
const SENDER_IDLE = 0;

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

/**
 * Sends `message` (a text message) on `socket`, writing the prebuilt `frame` of it straight to
 * the TCP stream when `ws` has nothing of its own in flight.
 */
export function sendTextFrame(socket: WebSocket, message: Buffer, frame: Buffer): void {
  const { _socket: stream, _sender: sender } = socket as unknown as WsInternals;
  if (stream && !stream.destroyed && sender?._state === SENDER_IDLE && sender._queue?.length === 0) {
    stream.write(frame);
    return;
  }
  socket.send(message, { binary: false });
}
