/**
 * A patient's token page (`/t/{tokenId}`): token number, doctor, slot time, status and place in
 * the queue, live through the slot stream (`?public=1`, so other patients' details never reach
 * the page). Where EventSource is missing, or the token has left the queue, it reads
 * GET /api/tokens/{id}. ES5 for old phones; the patient's own name is not shown either (the link
 * may be shared or seen over a shoulder).
 */
import { XHR_JSON_ES5, escapeHtml, scriptJson } from './html';

export interface TokenPageData {
  token: Record<string, unknown>;
  slot: Record<string, unknown>;
  doctor: { id: string; name: string; department: string | null } | null;
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#0d2233;color:#fff;font-family:"Segoe UI",Roboto,Arial,Helvetica,sans-serif;text-align:center}
main{max-width:34em;margin:0 auto;padding:1.5em 1em}
.lbl{font-size:.85em;letter-spacing:.15em;color:#7fd1b9;font-weight:700;text-transform:uppercase}
#number{font-size:5.5em;font-weight:800;color:#ffd23f;line-height:1.05;margin:.1em 0 .2em}
#doctor{font-size:1.4em;font-weight:700}
#when{color:#a9c3d6;margin-top:.3em}
#status{font-size:1.5em;font-weight:700;margin:1.1em 0 .3em;padding:.6em;border-radius:.4em;background:#143247}
#status.called{background:#1f8a70;-webkit-animation:pulse 1s ease-in-out infinite;animation:pulse 1s ease-in-out infinite}
#status.done{background:#2a4a60;color:#cfe0ea}
#status.gone{background:#5a2a2a}
@-webkit-keyframes pulse{50%{background:#2fb38f}}
@keyframes pulse{50%{background:#2fb38f}}
#detail{font-size:1.15em;color:#e6eef3;min-height:1.4em}
#moved{margin-top:.8em;color:#0d2233;background:#ffd23f;padding:.5em 1em;border-radius:.4em;font-weight:700;text-decoration:none}
#serving{margin-top:1.6em}
#servingNums{font-size:2em;font-weight:700;margin-top:.2em}
#live{margin-top:2em;font-size:.8em;color:#8fb3c9}
`;

const SCRIPT = `
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('opd-token').textContent);
  var token = DATA.token;
  var slot = DATA.slot;
  var doctor = DATA.doctor;
  var version = -1;
  var nowServing = null;
  var lastCall = callKey(token);
  var es = null;
  var pollTimer = null;

  function byId(id) { return document.getElementById(id); }
  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function label(t) { return t.label ? String(t.label) : '#' + t.number; }
  function text(id, value) { byId(id).textContent = value; }
  /* A call, and each recall of it, rings once. */
  function callKey(t) { return t.status === 'CALLED' ? 'CALLED:' + (t.recallCount || 0) : ''; }
  function when() {
    var s = new Date(slot.start), e = new Date(slot.end);
    if (isNaN(s.getTime())) return '';
    var days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    return days[s.getDay()] + ' ' + s.getDate() + '/' + (s.getMonth() + 1) + '  ' + pad(s.getHours()) + ':' + pad(s.getMinutes()) + '\\u2013' + pad(e.getHours()) + ':' + pad(e.getMinutes());
  }
${XHR_JSON_ES5}
  function beep() {
    try {
      var AC = window.AudioContext || window.webkitAudioContext;
      if (AC) {
        var ctx = new AC();
        var o = ctx.createOscillator();
        var g = ctx.createGain();
        o.frequency.value = 880;
        g.gain.value = 0.3;
        o.connect(g);
        g.connect(ctx.destination);
        o.start();
        o.stop(ctx.currentTime + 0.6);
      }
      if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
    } catch (e) { /* no sound */ }
  }

  function render() {
    var st = byId('status');
    var detail = '';
    var cls = '';
    var title;
    switch (token.status) {
      case 'CALLED':
        title = 'It is your turn';
        detail = 'Please go to ' + (doctor ? doctor.name : 'the doctor') + ' now.';
        cls = 'called';
        break;
      case 'CHECKED_IN':
        title = 'Checked in, waiting';
        detail = token.position ? (token.position === 1 ? 'You are next.' : 'Place in queue: ' + token.position + ' (' + (token.position - 1) + ' ahead of you)') : '';
        break;
      case 'BOOKED':
        title = 'Booked';
        detail = (token.position ? 'Place in queue: ' + token.position + '. ' : '') + 'Please check in at the desk when you arrive.';
        break;
      case 'WAITLISTED':
        title = 'On the waiting list';
        detail = token.position ? 'Waiting list place: ' + token.position : '';
        break;
      case 'PENDING':
        title = 'Being confirmed';
        detail = 'This page updates by itself.';
        break;
      case 'COMPLETED': title = 'Visit completed'; cls = 'done'; break;
      case 'CANCELLED': title = 'Cancelled'; cls = 'gone'; break;
      case 'NO_SHOW': title = 'Missed (not present when called)'; detail = 'Please ask at the desk.'; cls = 'gone'; break;
      case 'MOVED': title = 'Moved to another session'; detail = token.movedTo ? '' : 'Your new token is being issued.'; break;
      default: title = String(token.status);
    }
    st.className = cls;
    st.textContent = title;
    var delay = slot && typeof slot.delayMinutes === 'number' && slot.delayMinutes > 0 ? slot.delayMinutes : 0;
    if (delay && (token.status === 'BOOKED' || token.status === 'CHECKED_IN' || token.status === 'WAITLISTED')) {
      detail += (detail ? ' ' : '') + 'The doctor is running about ' + delay + ' min late.';
    }
    text('detail', detail);
    var moved = byId('moved');
    if (token.status === 'MOVED' && token.movedTo) {
      moved.href = '/t/' + encodeURIComponent(token.movedTo);
      moved.style.display = 'inline-block';
    } else {
      moved.style.display = 'none';
    }
    text('number', label(token));
    document.title = label(token) + ' \\u2013 ' + title;
    if (nowServing) {
      var nums = [];
      for (var i = 0; i < nowServing.length; i++) nums.push(label(nowServing[i]));
      text('servingNums', nums.length ? nums.join('  ') : '\\u2014');
      byId('serving').style.display = 'block';
    }
    var key = callKey(token);
    if (key && key !== lastCall) beep();
    lastCall = key;
  }

  function onView(view) {
    if (!view || typeof view.version !== 'number' || view.version <= version) return;
    version = view.version;
    if (view.slot) slot = view.slot;
    nowServing = view.nowServing || [];
    var lists = [view.nowServing, view.queue, view.waitlist];
    for (var l = 0; l < lists.length; l++) {
      for (var i = 0; i < (lists[l] || []).length; i++) {
        if (lists[l][i].id === token.id) { token = lists[l][i]; render(); return; }
      }
    }
    // Not in the live lists any more (completed, cancelled, no-show): ask for the token itself.
    refreshToken();
    render();
  }
  function refreshToken() {
    xhrJson('/api/tokens/' + encodeURIComponent(token.id) + '?public=1', function (status, body) {
      if (status === 200 && body && body.token) {
        var t = body.token;
        delete t.patient;
        token = t;
        render();
      }
    });
  }
  function setLive(ok) { text('live', ok ? 'Updates live' : 'Reconnecting\\u2026'); }
  function connect() {
    if (!window.EventSource) { pollTimer = setInterval(refreshToken, 5000); text('live', 'Updates every few seconds'); return; }
    es = new window.EventSource('/api/slots/' + encodeURIComponent(token.slotId) + '/stream?public=1');
    es.onopen = function () { setLive(true); };
    es.addEventListener('view', function (e) {
      try { onView(JSON.parse(e.data)); } catch (err) { /* ignore */ }
    }, false);
    es.onerror = function () {
      setLive(false);
      if (es.readyState === 2 && !pollTimer) pollTimer = setInterval(refreshToken, 10000);
    };
  }

  text('doctor', doctor ? doctor.name + (doctor.department ? ' \\u00b7 ' + doctor.department : '') : '');
  text('when', when());
  render();
  connect();
})();
`;

export function tokenPage(data: TokenPageData, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<meta name="robots" content="noindex">
<title>Your token</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="lbl">Your token</div>
<div id="number"></div>
<div id="doctor"></div>
<div id="when"></div>
<div id="status"></div>
<div id="detail"></div>
<a id="moved" style="display:none">Open your new token</a>
<div id="serving" style="display:none"><div class="lbl">Now being seen</div><div id="servingNums"></div></div>
<div id="live">Connecting\u2026</div>
<noscript><p>${escapeHtml('This page needs JavaScript to show your place in the queue.')}</p></noscript>
</main>
<script type="application/json" id="opd-token">${scriptJson(data)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
