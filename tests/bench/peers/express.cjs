// express.cjs -- the receiver Panora's docs show, in Express with
// express.json(): HMAC-SHA256 of JSON.stringify(event.data), compared with
// timingSafeEqual, then JSON.parse(event.data) and a 200. A bench peer
// (make bench), not part of the product.
//
//   PANORA_WEBHOOK_SECRET=... PORT=... node express.cjs
const crypto = require('node:crypto');
const express = require('express');

const secret = process.env.PANORA_WEBHOOK_SECRET;
const app = express();
app.use(express.json());

app.post('/panora_webhooks', (req, res) => {
  const event = req.body;
  const want = crypto.createHmac('sha256', secret).update(JSON.stringify(event.data)).digest();
  const got = Buffer.from(String(req.get('panora-signature') ?? ''), 'hex');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return res.status(401).send('bad signature');
  JSON.parse(event.data);
  return res.status(200).send('ok');
});

app.listen(Number(process.env.PORT), '127.0.0.1');
