// Expired TURN credentials must not get a relay: coturn refuses the allocation, so a relay-only connection
// gathers no candidate and the data channel does not open.
import { run, start_browser, start_coturn, start_server, wait_for } from './harness.mjs';
import crypto from 'node:crypto';

run('webrtc: expired TURN credentials fail', async (assert) => {
  const secret = crypto.randomBytes(16).toString('hex');
  const turn_port = await start_coturn(secret);
  const origin = await start_server(['--turn-url', `turn:127.0.0.1:${turn_port}?transport=udp`, '--turn-ttl', '1'],
    { SWITCHBOARD_TURN_SECRET: secret });

  // The server's own credential, one second to live; wait for the clock to pass its expiry.
  const res = await fetch(`${origin}/turn-credentials?user=late`);
  assert.equal(res.status, 200);
  const server = await res.json();
  assert.equal(server.ttl, 1);
  await wait_for('the credential to expire', () => Date.now() / 1000 > server.expires + 1, 5000, 100);
  const ice_servers = [{ urls: server.urls, username: server.username, credential: server.credential }];

  const open_page = await start_browser(origin);
  const [a, b] = [await open_page(), await open_page()];
  for (const page of [a, b])
    await page.evaluate((o) => window.demo.join('expired', o), { relay: true, ice_servers });
  // Both sides see each other and finish gathering: without a relay there is nothing to offer.
  for (const page of [a, b]) {
    const peer = await wait_for('ICE gathering to end', () => page.evaluate(() => {
      const p = window.demo.peer();
      return p && p.gathering === 'complete' ? p : null;
    }), 20000, 100);
    assert.deepEqual(peer.candidates, [], 'no candidate with an expired credential');
    assert.ok(peer.candidate_errors.some((e) => e.code === 401), JSON.stringify(peer.candidate_errors));
  }
  // And it stays so: nothing opens within a deadline a fresh credential needs a fraction of (relay_test).
  const started = Date.now();
  await wait_for('the deadline', async () => {
    for (const page of [a, b])
      assert.notEqual(await page.evaluate(() => window.demo.peer().channel), 'open');
    return Date.now() - started > 5000;
  }, 10000, 250);
});
