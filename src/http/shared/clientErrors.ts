import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Requests Node's HTTP parser refuses before any handler runs — headers or
 * a request line beyond `maxHeaderSize` (431), bytes that are no HTTP (400)
 * — answered in webob's JSON error shape (what Cinder's and Nova's own
 * refusals of such requests look like), not Node's empty default.
 */
export function answerClientErrors(server: Server): Server {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    const body = JSON.stringify({
      code: status,
      title: status.slice(4),
      message: tooLarge ? 'The request line and headers are longer than this server accepts.' : 'The request is not valid HTTP.',
    });
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
