// Two pages open a data channel forced through coturn (iceTransportPolicy 'relay') with the credentials the
// example server issues at /turn-credentials, and exchange a chat line and a file over the relay.
import { connect_pair, exchange, run, start_browser, start_coturn, start_server } from './harness.mjs';
import crypto from 'node:crypto';

run('webrtc: through coturn with fresh credentials', async (assert) => {
  const secret = crypto.randomBytes(16).toString('hex');
  const turn_port = await start_coturn(secret);
  const origin = await start_server(['--turn-url', `turn:127.0.0.1:${turn_port}?transport=udp`],
    { SWITCHBOARD_TURN_SECRET: secret });
  const open_page = await start_browser(origin);
  const [a, b] = [await open_page(), await open_page()];
  const [pa, pb] = await connect_pair(a, b, 'relay', { relay: true });
  await exchange(a, b);
  for (const [page, peer] of [[a, pa], [b, pb]]) {
    const pair = await page.evaluate((id) => window.demo.selected_pair(id), peer.id);
    assert.deepEqual([pair.local, pair.remote], ['relay', 'relay']);
    const candidates = await page.evaluate((id) => window.demo.peer(id).candidates, peer.id);
    assert.ok(candidates.length > 0 && candidates.every((t) => t === 'relay'), `candidates: ${candidates}`);
  }
});
