// The baseline for push latency: a bare socket.io server in its own process, like Backflow's, that
// acknowledges an "echo" with its payload (and answers a POST by emitting its body to the next
// connected socket): no auth, no database.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Server } = require('socket.io');

const http = createServer();
const io = new Server(http, { transports: ['websocket'] });
let next = 0;
io.on('connection', (socket) => socket.on('echo', (payload, ack) => ack?.(payload)));
http.on('request', (request, response) => {
  if (request.url?.startsWith('/socket.io')) return;
  let body = '';
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    const sockets = [...io.sockets.sockets.values()];
    if (sockets.length) sockets[next++ % sockets.length].emit('task:assigned', { task: JSON.parse(body) });
    response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
  });
});
http.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
