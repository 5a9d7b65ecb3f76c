import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const head =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

/**
 * Slack's Socket Mode end, as far as a connection goes: the WebSocket handshake (RFC 6455), a
 * `hello` as Slack sends it, pongs to the client's pings, and the close handshake. What the bot
 * sends is kept in `received`.
 */
export class SocketStandIn {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  readonly received: string[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => res.writeHead(426).end());
    this.server.on('upgrade', (req, socket: Socket) => {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${GUID}`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          if (buffered.length < 2) return;
          const opcode = buffered[0]! & 0x0f;
          let length = buffered[1]! & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (buffered.length < 4) return;
            length = buffered.readUInt16BE(2);
            offset = 4;
          }
          // Clients always mask their frames.
          if (buffered.length < offset + 4 + length) return;
          const mask = buffered.subarray(offset, offset + 4);
          const payload = Buffer.from(
            buffered.subarray(offset + 4, offset + 4 + length).map((b, i) => b ^ mask[i % 4]!),
          );
          buffered = buffered.subarray(offset + 4 + length);
          if (opcode === 0x1) this.received.push(payload.toString('utf8'));
          else if (opcode === 0x9) socket.write(frame(0xa, payload));
          else if (opcode === 0x8) {
            socket.end(frame(0x8, payload));
            return;
          }
        }
      });
      socket.write(
        frame(
          0x1,
          Buffer.from(
            JSON.stringify({
              type: 'hello',
              num_connections: 1,
              debug_info: { host: 'stand-in', approximate_connection_time: 18060 },
              connection_info: { app_id: 'A1' },
            }),
          ),
        ),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/link`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
