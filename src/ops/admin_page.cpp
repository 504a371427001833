// The admin page, served at /admin when an admin token is configured. Plain HTML and JavaScript: it listens to
// /admin/events with EventSource (the token travels in the query string, as EventSource cannot set headers).
#include <string_view>

namespace switchboard::detail {

std::string_view admin_page()
{
    static constexpr char const page[] = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>switchboard admin</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2128; background: #f5f6f8; }
  h1 { font-size: 1.2rem; } h2 { font-size: 1rem; margin: 0 0 .5rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); gap: 1rem; }
  .card { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 1rem; }
  .big { font-size: 1.8rem; font-variant-numeric: tabular-nums; }
  table { border-collapse: collapse; width: 100%; } td { padding: .2rem .4rem; border-bottom: 1px solid #eee; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; } #state { color: #6b7280; }
</style></head><body>
<h1>switchboard <span id="state">connecting…</span></h1>
<div class="grid">
  <div class="card"><h2>Connections</h2><table id="conns"></table></div>
  <div class="card"><h2>Messages per second</h2><div class="big" id="pub">0</div>published
    <div class="big" id="del">0</div>deliveries</div>
  <div class="card"><h2>Latency</h2><table id="lat"></table></div>
  <div class="card"><h2>Top topics</h2><table id="topics"></table></div>
</div>
<script>
  const token = new URLSearchParams(location.search).get('token') || '';
  const rows = (el, pairs) => {
    el.replaceChildren(...pairs.map(([k, v]) => {
      const tr = document.createElement('tr');
      const a = document.createElement('td'); a.textContent = k;
      const b = document.createElement('td'); b.className = 'n'; b.textContent = v;
      tr.append(a, b); return tr;
    }));
  };
  const es = new EventSource('/admin/events?token=' + encodeURIComponent(token));
  es.onopen = () => { document.getElementById('state').textContent = 'live'; };
  es.onerror = () => { document.getElementById('state').textContent = 'reconnecting…'; };
  es.addEventListener('stats', (e) => {
    const s = JSON.parse(e.data);
    rows(document.getElementById('conns'), [...Object.entries(s.connections),
      ['subscriptions', s.subscriptions], ['topics', s.topics], ['slow consumers closed', s.slow_consumers],
      ['backplane', s.backplane.name + (s.backplane.connected ? ' (connected)' : ' (DOWN)')]]);
    document.getElementById('pub').textContent = s.published_per_s;
    document.getElementById('del').textContent = s.deliveries_per_s;
    rows(document.getElementById('lat'), [['delivery p50 (ms)', s.delivery_latency_ms.p50],
      ['delivery p99 (ms)', s.delivery_latency_ms.p99], ['loop lag p99 (ms)', s.loop_lag_ms_p99]]);
    rows(document.getElementById('topics'), s.top_topics.map((t) => [t.topic, t.subscribers]));
  });
</script></body></html>)html";
    return {page, sizeof(page) - 1};
}

}  // namespace switchboard::detail
