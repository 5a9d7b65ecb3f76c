import { createServer } from 'node:net';
import { startBot } from '../support/bot';
import { SocketStandIn } from '../support/socket-stand-in';

/** A port nobody listens on now (the OS's next free one). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

it('Socket Mode serves /healthz, /metrics and the API on PORT (not on 3000)', async () => {
  const socket = new SocketStandIn();
  await socket.start();
  const port = await freePort();
  const bot = await startBot({
    socketUrl: socket.url,
    env: {
      SLACK_APP_TOKEN: 'xapp-1-test',
      SLACK_SIGNING_SECRET: '',
      PORT: String(port),
      DONEDONE_API_TOKEN: 'socket-api-token-0123456789',
    },
  });
  try {
    expect(bot.url).toBe(`http://127.0.0.1:${port}`);
    expect(bot.slackApi.callsTo('apps.connections.open')).toHaveLength(1);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${bot.url}/metrics`)).status).toBe(200);
    const api = await fetch(`${bot.url}/api/features`, {
      headers: { authorization: 'Bearer socket-api-token-0123456789' },
    });
    expect(api.status).not.toBe(404);
    expect([200, 400]).toContain(api.status);
  } finally {
    await bot.stop();
    await socket.stop();
  }
});
