// Two pages open a data channel through the signaling example with host candidates (no TURN configured) and
// exchange a chat line and a file; a third page finds the room full.
import { connect_pair, exchange, run, start_browser, start_server } from './harness.mjs';

run('webrtc: host candidates', async (assert) => {
  const origin = await start_server(['--room-size', '2']);
  const open_page = await start_browser(origin);
  const [a, b] = [await open_page(), await open_page()];
  const [pa, pb] = await connect_pair(a, b, 'host');
  assert.notEqual(pa.polite, pb.polite, 'exactly one peer is polite');
  await exchange(a, b);
  const pair = await a.evaluate((id) => window.demo.selected_pair(id), pa.id);
  assert.equal(pair.local, 'host');
  assert.equal(pair.remote, 'host');
  assert.equal(pair.local_address, '127.0.0.1');

  const c = await open_page();
  const refused = await c.evaluate(() => window.demo.join('host').then(() => 'joined', (e) => e.message));
  assert.match(refused, /^rejected/);
});
