// OpenPOS-style STOMP sessions over WebSocket, with the real client library
// (@stomp/stompjs over ws, which offers permessage-deflate as browsers do). Each session
// connects to <url> with the STOMP subprotocols and names its device only in the
// CONNECT frame's headers, as the OpenPOS client does.
//
// Usage: node client.mjs <spec.json>, where the spec is
//   {"url": "ws://127.0.0.1:8000/api/websocket", "reconnectDelay": 200,
//    "sessions": [{"deviceId": "00123-001", "appId": "pos"}, ...]}
// It prints one JSON line per event: connected (with the replica that the CONNECTED
// frame names), closed (with the close code and reason), stompError, and rtt results.
// Lines on stdin are commands: "ping <count>" sends count messages per session, one
// after the other, and prints their round-trip times; "quit" (or the end of stdin)
// disconnects every session and exits.
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const emit = (event) => process.stdout.write(JSON.stringify({ t: Date.now(), ...event }) + '\n');

const sessions = spec.sessions.map(({ deviceId, appId }) => {
  const topic = `/topic/app/${appId}/node/${deviceId}`;
  const session = { deviceId, appId, waiting: null };
  const client = new Client({
    webSocketFactory: () => new WebSocket(spec.url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: {
      authToken: 'token-' + deviceId,
      compatibilityVersion: 'v1',
      appId,
      deviceId,
      queryParams: '{}',
      version: '1.0',
      'personalization.storeId': deviceId.split('-')[0],
    },
    reconnectDelay: spec.reconnectDelay ?? 200,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
    onConnect: (frame) => {
      emit({ event: 'connected', deviceId, appId, replica: frame.headers.replica ?? '' });
      client.subscribe(topic, (message) => {
        if (session.waiting) {
          const done = session.waiting;
          session.waiting = null;
          done(message.body);
        }
      });
    },
    onStompError: (frame) => emit({ event: 'stompError', deviceId, message: frame.headers.message ?? '' }),
    onWebSocketClose: (closeEvent) => emit({ event: 'closed', deviceId, code: closeEvent.code, reason: closeEvent.reason ?? '' }),
  });
  session.client = client;
  client.activate();
  return session;
});

// ping sends count messages on a session, each after the previous one's echo.
async function ping(session, count) {
  const times = [];
  for (let i = 0; i < count; i++) {
    if (!session.client.connected) break;
    const started = process.hrtime.bigint();
    const echoed = new Promise((resolve) => { session.waiting = resolve; });
    session.client.publish({ destination: `/app/device/app/${session.appId}/node/${session.deviceId}/ping`, body: String(i) });
    const timeout = new Promise((resolve) => setTimeout(() => resolve(null), 5000));
    if ((await Promise.race([echoed, timeout])) === null) break;
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

const input = createInterface({ input: process.stdin });
input.on('line', async (line) => {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'ping') {
    const results = await Promise.all(sessions.map((s) => ping(s, Number(arg) || 1)));
    emit({ event: 'rtt', millis: results.flat() });
  } else if (command === 'quit') {
    await quit();
  }
});
input.on('close', () => quit());

async function quit() {
  await Promise.all(sessions.map((s) => s.client.deactivate()));
  emit({ event: 'quit' });
  process.exit(0);
}
