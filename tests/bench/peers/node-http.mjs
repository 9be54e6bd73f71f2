// node-http.mjs -- the receiver a performance-minded Node user writes: plain
// node:http, the body collected, one JSON.parse, HMAC-SHA256 of
// JSON.stringify(event.data), timingSafeEqual, JSON.parse(event.data) and a
// 200. A bench peer (make bench), not part of the product.
//
//   PANORA_WEBHOOK_SECRET=... PORT=... node node-http.mjs
import crypto from 'node:crypto';
import http from 'node:http';

const secret = process.env.PANORA_WEBHOOK_SECRET;

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let ok = false;
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const want = crypto.createHmac('sha256', secret).update(JSON.stringify(event.data)).digest();
      const got = Buffer.from(String(req.headers['panora-signature'] ?? ''), 'hex');
      ok = got.length === want.length && crypto.timingSafeEqual(got, want) && JSON.parse(event.data) !== undefined;
    } catch { /* malformed: refused below */ }
    res.writeHead(ok ? 200 : 401, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok' : 'bad signature');
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
