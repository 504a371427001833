// Three pages in one room: every pair negotiates its own connection (addressed signaling), a chat line reaches
// both other peers, and when a page closes the others hear the server's "bye".
import { run, start_browser, start_server, wait_for } from './harness.mjs';

run('webrtc: a room of three', async (assert) => {
  const origin = await start_server();
  const open_page = await start_browser(origin);
  const pages = [await open_page(), await open_page(), await open_page()];
  for (const page of pages)
    await page.evaluate(() => window.demo.join('mesh'));
  // Six connections negotiate at once in one browser; a pair whose ICE fails restarts it, which takes a while on a
  // loaded machine: hence the long wait.
  for (const page of pages)
    await wait_for('two open data channels', () => page.evaluate(
      () => window.demo.peers().filter((p) => p.channel === 'open').length === 2), 60000, 100);

  assert.equal(await pages[0].evaluate(() => window.demo.send_chat('hello, both')), 2);
  for (const page of pages.slice(1))
    await wait_for('the chat line', () => page.evaluate(() => window.demo.events.some((e) => e.endsWith(': hello, both'))));

  const gone = await pages[2].evaluate(() => window.demo.my_id);
  await pages[2].close();
  for (const page of pages.slice(0, 2))
    await wait_for('the bye', () => page.evaluate((id) => window.demo.events.includes(`peer ${id} left`), gone));
}, 105000);
