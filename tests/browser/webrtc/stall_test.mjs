// A pair whose ICE never starts its checks restarts it. Between each page and the server, every ICE candidate is
// taken out of the signaling (the candidate messages, and candidate lines in descriptions), so both sides of the
// pair stay 'new', as CI once saw Chromium leave a pair. The impolite peer must restart ICE; once the
// candidates go through again, the data channel opens and carries a file.
import { exchange, run, start_browser, start_server, wait_for } from './harness.mjs';

run('webrtc: a pair whose ICE never starts restarts it', async (assert) => {
  const origin = await start_server(['--room-size', '2']);
  const open_page = await start_browser(origin);
  let blocking = true;
  let dropped = 0;  // candidates taken out: candidate messages, and candidate lines of descriptions
  const without_candidates = (text) => {
    if (!blocking) return text;
    const msg = JSON.parse(text);
    const data = ['publish', 'message'].includes(msg.type) ? msg.data : null;
    if (data?.kind === 'candidate') {
      ++dropped;
      return null;
    }
    if (data?.kind === 'description') {
      dropped += (data.description.sdp.match(/^a=candidate:/gm) ?? []).length;
      data.description.sdp = data.description.sdp.replace(/^a=(candidate:|end-of-candidates).*\r\n/gm, '');
      return JSON.stringify(msg);
    }
    return text;
  };
  const filtered = async () => {
    const page = await open_page();
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => { const out = without_candidates(m); if (out !== null) server.send(out); });
      server.onMessage((m) => { const out = without_candidates(m); if (out !== null) ws.send(out); });
    });
    return page;
  };
  const [a, b] = [await filtered(), await filtered()];
  for (const page of [a, b])
    await page.evaluate(() => window.demo.join('stall'));

  const restarted = (page) => page.evaluate(() => window.demo.events.some((e) => e.endsWith('ICE has not started, restarting it')));
  await wait_for('the impolite peer to restart ICE', async () => (await restarted(a)) || (await restarted(b)), 20000, 100);
  assert.ok(dropped > 0, 'candidates were taken out');
  const impolite = (await a.evaluate(() => window.demo.peer().polite)) ? b : a;
  assert.ok(await restarted(impolite), 'the impolite peer restarted');
  blocking = false;

  // The restart's candidates may have been gathered before blocking ended: then the next restart's go through.
  for (const page of [a, b])
    await wait_for('the data channel to open', () => page.evaluate(() => window.demo.peer()?.channel === 'open'), 30000, 100);
  await exchange(a, b, 64 * 1024);
});
