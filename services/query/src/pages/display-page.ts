/**
 * The waiting-room board: one self-contained page per branch (optionally one doctor). Data comes
 * from GET /api/branches/{branchId}/slots?public=1 and then live from
 * GET /api/branches/{branchId}/stream?public=1 (XHR polling where EventSource is missing or the
 * stream cannot be opened). The script is ES5 (var, function, XHR) so that old TV browsers run
 * it. It never renders patient details, and asks for views with them removed anyway.
 *
 * New calls chime (WebAudio) and are spoken (speechSynthesis, language `?lang=`). What was
 * announced is remembered by token id + status (memory and localStorage), so a reconnect or a
 * reload never announces a call twice; the first snapshot after opening the page is silent.
 */
import { XHR_JSON_ES5, escapeHtml, scriptJson } from './html';

export interface DisplayPageConfig {
  branchId: string;
  doctorId: string | null;
  lang: string;
}

const STYLE = `
*{box-sizing:border-box}
html,body{margin:0;padding:0;height:100%}
body{background:#0d2233;color:#fff;font-family:"Segoe UI",Roboto,Arial,Helvetica,sans-serif;overflow:hidden}
#top{display:-webkit-box;display:-webkit-flex;display:flex;-webkit-box-align:center;-webkit-align-items:center;align-items:center;-webkit-box-pack:justify;-webkit-justify-content:space-between;justify-content:space-between;padding:1.2vh 2vw;background:#08161f;border-bottom:.4vh solid #1f8a70;height:9vh}
#title{font-size:3.6vh;font-weight:700;letter-spacing:.05em}
#title small{font-size:2.2vh;font-weight:400;color:#8fb3c9;margin-left:1.5vw}
#clock{font-size:4.4vh;font-weight:700;font-variant-numeric:tabular-nums}
#status{font-size:1.9vh;color:#8fb3c9;margin-right:2vw}
#status.live:before{content:"";display:inline-block;width:1.4vh;height:1.4vh;border-radius:50%;background:#37d67a;margin-right:.6vw}
#status.down:before{content:"";display:inline-block;width:1.4vh;height:1.4vh;border-radius:50%;background:#e0a100;margin-right:.6vw}
#board{display:-webkit-box;display:-webkit-flex;display:flex;-webkit-flex-wrap:wrap;flex-wrap:wrap;height:87vh;padding:1vh 1vw}
#empty{font-size:5vh;color:#8fb3c9;text-align:center;width:100%;padding-top:30vh}
.card{background:#143247;border-radius:1.2vh;margin:.8vh .6vw;padding:1.6vh 1.6vw;display:-webkit-box;display:-webkit-flex;display:flex;-webkit-box-orient:vertical;-webkit-flex-direction:column;flex-direction:column;overflow:hidden;border:.4vh solid #143247}
.card.flash{-webkit-animation:flash 1s ease-in-out 6;animation:flash 1s ease-in-out 6}
@-webkit-keyframes flash{50%{border-color:#ffd23f;background:#1d4763}}
@keyframes flash{50%{border-color:#ffd23f;background:#1d4763}}
.n1 .card{width:97vw;height:84vh}
.n2 .card{width:47.8vw;height:84vh}
.n4 .card{width:47.8vw;height:41vh}
.n6 .card{width:31.5vw;height:41vh}
.n9 .card{width:31.5vw;height:27vh}
.head{display:-webkit-box;display:-webkit-flex;display:flex;-webkit-box-align:baseline;-webkit-align-items:baseline;align-items:baseline;-webkit-flex-wrap:wrap;flex-wrap:wrap}
.doc{font-size:4.2vh;font-weight:700;margin-right:1.2vw}
.meta{font-size:2.4vh;color:#a9c3d6}
.delay{font-size:2.6vh;font-weight:700;color:#0d2233;background:#ffb347;border-radius:.8vh;padding:.2vh .8vw;margin-left:auto}
.closed{font-size:2.6vh;color:#ff8a80;margin-left:auto}
.body{display:-webkit-box;display:-webkit-flex;display:flex;-webkit-box-orient:vertical;-webkit-flex-direction:column;flex-direction:column;-webkit-box-flex:1;-webkit-flex:1;flex:1;min-height:0;margin-top:1vh}
.n1 .body{-webkit-box-orient:horizontal;-webkit-flex-direction:row;flex-direction:row}
.now{-webkit-box-flex:1;-webkit-flex:1;flex:1;min-height:0;min-width:0;text-align:center;display:-webkit-box;display:-webkit-flex;display:flex;-webkit-box-orient:vertical;-webkit-flex-direction:column;flex-direction:column;-webkit-box-pack:center;-webkit-justify-content:center;justify-content:center;background:#0d2233;border-radius:1vh;padding:1vh 1vw;overflow:hidden}
.n1 .now{margin-right:1.5vw}
.lbl{font-size:2.2vh;letter-spacing:.15em;color:#7fd1b9;font-weight:700;text-transform:uppercase}
.now-num{display:block;width:100%;font-weight:800;line-height:1.05;color:#ffd23f;font-variant-numeric:tabular-nums;white-space:nowrap;overflow:hidden;font-size:10vh}
.now-num.idle{color:#56748a}
.also{font-size:3vh;color:#ffe58a;margin-top:.6vh;white-space:nowrap;overflow:hidden}
.side{-webkit-box-flex:0;-webkit-flex:none;flex:none;overflow:hidden;padding-top:1.2vh}
.n1 .side{width:36%;padding-top:0}
.row{margin-bottom:1vh;white-space:nowrap;overflow:hidden}
.n1 .row{white-space:normal;margin-bottom:2.5vh}
.chips{margin-top:.4vh;white-space:nowrap;overflow:hidden}
.n1 .chips{white-space:normal}
.chip{display:inline-block;font-weight:700;background:#1f8a70;border-radius:.8vh;padding:.2vh .7vw;margin:0 .5vw .6vh 0;font-variant-numeric:tabular-nums}
.n1 .chip{font-size:6vh}.n2 .chip{font-size:4.6vh}.n4 .chip{font-size:3.2vh}.n6 .chip,.n9 .chip{font-size:2.6vh}
.chip.dim{background:transparent;border:.25vh solid #3e6580;color:#cfe0ea}
.chip.old{background:#2a4a60;color:#cfe0ea}
.more{font-size:2.4vh;color:#a9c3d6;display:inline-block;vertical-align:middle}
.n1 .chip.small{font-size:4vh}.n2 .chip.small{font-size:3.2vh}.n4 .chip.small,.n6 .chip.small,.n9 .chip.small{font-size:2.2vh}
.none{font-size:2.6vh;color:#56748a}
#sound{position:fixed;left:0;right:0;bottom:0;font-size:2vh;background:#5a3d00;color:#ffe2a8;text-align:center;padding:.6vh;display:none;cursor:pointer}
`;

const SCRIPT = `
(function () {
  'use strict';
  var CFG = JSON.parse(document.getElementById('opd-config').textContent);
  var base = '/api/branches/' + encodeURIComponent(CFG.branchId);
  var params = '?public=1' + (CFG.doctorId ? '&doctorId=' + encodeURIComponent(CFG.doctorId) : '');
  var slots = {};
  var loadedOnce = false;
  var es = null;
  var pollTimer = null;
  var reloadTimer = null;
  var STORE_KEY = 'opd-display-announced:' + CFG.branchId;
  var announced = loadAnnounced();
  var announcements = [];
  var speakQueue = [];
  var speaking = false;
  var audioCtx = null;
  var today = dayKey(new Date());
  window.opdDisplay = { announcements: announcements, slots: slots };

  function byId(id) { return document.getElementById(id); }
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function dayKey(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }
  function hhmm(iso) { var d = new Date(iso); return isNaN(d.getTime()) ? '' : pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function label(t) { return t.label ? String(t.label) : '#' + t.number; }
  /* SMI-027 is spoken "27": the doctor's name follows, and letters read out badly. */
  function spoken(t) {
    var m = t.label ? /^[A-Za-z]+-0*(\\d+)$/.exec(String(t.label)) : null;
    return m ? m[1] : t.label ? String(t.label) : String(t.number);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.appendChild(document.createTextNode(String(text)));
    return e;
  }

  function loadAnnounced() {
    try { var raw = window.localStorage && window.localStorage.getItem(STORE_KEY); return raw ? JSON.parse(raw) || {} : {}; } catch (e) { return {}; }
  }
  function saveAnnounced() {
    var keys = [];
    for (var k in announced) if (has(announced, k)) keys.push(k);
    if (keys.length > 400) {
      keys.sort(function (a, b) { return announced[a] - announced[b]; });
      for (var i = 0; i < keys.length - 300; i++) delete announced[keys[i]];
    }
    try { if (window.localStorage) window.localStorage.setItem(STORE_KEY, JSON.stringify(announced)); } catch (e) { /* private mode, full */ }
  }

${XHR_JSON_ES5}

  /* ---- sound ---- */
  function audio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!audioCtx) { try { audioCtx = new AC(); } catch (e) { return null; } }
    if (audioCtx.state === 'suspended' && audioCtx.resume) { try { audioCtx.resume(); } catch (e) { /* needs a gesture */ } }
    return audioCtx;
  }
  function tone(ctx, freq, at, dur) {
    var o = ctx.createOscillator();
    var g = ctx.createGain();
    o.type = 'sine';
    o.frequency.value = freq;
    g.gain.setValueAtTime(0.0001, at);
    g.gain.exponentialRampToValueAtTime(0.5, at + 0.03);
    g.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    o.connect(g);
    g.connect(ctx.destination);
    o.start(at);
    o.stop(at + dur + 0.05);
  }
  function chime() {
    try {
      var ctx = audio();
      if (!ctx) return;
      var t0 = ctx.currentTime + 0.05;
      tone(ctx, 880, t0, 0.45);
      tone(ctx, 660, t0 + 0.5, 0.7);
    } catch (e) { /* no audio */ }
  }
  function pickVoice() {
    try {
      var voices = window.speechSynthesis.getVoices() || [];
      var lang = CFG.lang.toLowerCase();
      var prefix = lang.split('-')[0];
      var partial = null;
      for (var i = 0; i < voices.length; i++) {
        var v = (voices[i].lang || '').toLowerCase().replace('_', '-');
        if (v === lang) return voices[i];
        if (!partial && v.split('-')[0] === prefix) partial = voices[i];
      }
      return partial;
    } catch (e) { return null; }
  }
  function nextAnnouncement() {
    if (speaking || speakQueue.length === 0) return;
    speaking = true;
    var text = speakQueue.shift();
    var finished = false;
    function done() { if (finished) return; finished = true; speaking = false; setTimeout(nextAnnouncement, 600); }
    chime();
    setTimeout(function () {
      try {
        if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
          var u = new window.SpeechSynthesisUtterance(text);
          u.lang = CFG.lang;
          u.rate = 0.9;
          var voice = pickVoice();
          if (voice) u.voice = voice;
          u.onend = done;
          u.onerror = done;
          window.speechSynthesis.speak(u);
        }
      } catch (e) { /* no speech */ }
      setTimeout(done, 9000);
    }, 1300);
  }
  function doctorWords(name) {
    var rest = String(name || '').replace(/^\\s*(dr\\.?|doctor)\\s+/i, '');
    return 'Doctor ' + rest;
  }
  function announce(t, s) {
    var text = 'Token ' + spoken(t) + ', ' + doctorWords(s.doctor.name);
    announcements.push({ tokenId: t.id, text: text, at: new Date().toISOString() });
    speakQueue.push(text);
    nextAnnouncement();
  }
  function showSoundHint() {
    var ctx = audio();
    var hint = byId('sound');
    if (ctx && ctx.state === 'suspended') hint.style.display = 'block';
    function unlock() {
      var c = audio();
      if (c && c.state !== 'suspended') hint.style.display = 'none';
    }
    hint.onclick = unlock;
    document.addEventListener('keydown', unlock, false);
    document.addEventListener('click', unlock, false);
  }

  /* ---- state ---- */
  function ensureSlot(view, doctor) {
    var id = view.slot.id;
    if (!has(slots, id)) slots[id] = { id: id, doctor: doctor, view: null, order: [], labels: {}, flashUntil: 0 };
    else if (doctor) slots[id].doctor = doctor;
    return slots[id];
  }
  function moveToFront(list, id) {
    for (var i = 0; i < list.length; i++) if (list[i] === id) { list.splice(i, 1); break; }
    list.unshift(id);
    if (list.length > 30) list.length = 30;
  }
  function processView(view, silent) {
    if (!view || !view.slot) return;
    var s = slots[view.slot.id];
    if (!s) { scheduleReload(); return; }
    if (s.view && s.view.version >= view.version) return;
    var before = {};
    var i;
    if (s.view) for (i = 0; i < s.view.nowServing.length; i++) before[s.view.nowServing[i].id] = true;
    s.view = view;
    var lists = [view.nowServing, view.queue, view.waitlist];
    for (var l = 0; l < lists.length; l++) for (i = 0; i < (lists[l] || []).length; i++) s.labels[lists[l][i].id] = label(lists[l][i]);
    var fresh = [];
    for (i = view.nowServing.length - 1; i >= 0; i--) {
      var t = view.nowServing[i];
      /* Token id + status (+ recall count: a recall is a new call to announce). */
      var key = t.id + ':CALLED' + (t.recallCount ? ':' + t.recallCount : '');
      var isNew = !has(announced, key);
      if (isNew) {
        announced[key] = new Date().getTime();
        if (!silent) fresh.push(t);
      }
      if (!silent && (isNew || !before[t.id])) moveToFront(s.order, t.id);
      else if (s.order.indexOf(t.id) < 0) s.order.push(t.id);
    }
    if (fresh.length) {
      saveAnnounced();
      s.flashUntil = new Date().getTime() + 6000;
      for (i = 0; i < fresh.length; i++) announce(fresh[i], s);
    }
  }

  function loadList() {
    xhrJson(base + '/slots' + params, function (status, body) {
      if (status === 200 && body && body.slots) {
        var silent = !loadedOnce;
        for (var i = 0; i < body.slots.length; i++) {
          var entry = body.slots[i];
          var s = ensureSlot(entry.view, entry.doctor);
          var recent = entry.recentCalls || [];
          for (var j = 0; j < recent.length; j++) {
            if (s.order.indexOf(recent[j].id) < 0) s.order.push(recent[j].id);
            if (!s.labels[recent[j].id]) s.labels[recent[j].id] = recent[j].label ? String(recent[j].label) : '#' + recent[j].number;
          }
          processView(entry.view, silent);
        }
        if (silent) saveAnnounced();
        loadedOnce = true;
        render();
        if (!es && !pollTimer) connect();
      } else {
        // 404: no doctors in this branch yet; anything else: try again soon.
        if (status === 404) { loadedOnce = true; render(); }
        if (!pollTimer) setTimeout(loadList, status === 404 ? 60000 : 10000);
      }
    });
  }
  function scheduleReload() {
    if (reloadTimer) return;
    reloadTimer = setTimeout(function () { reloadTimer = null; loadList(); }, 800);
  }

  /* ---- transport ---- */
  function setLive(ok) {
    var st = byId('status');
    st.className = ok ? 'live' : 'down';
    st.textContent = ok ? 'Live' : 'Reconnecting';
  }
  function startPolling(ms) {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = setInterval(loadList, ms);
  }
  function stopPolling() { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } }
  function connect() {
    if (!window.EventSource) { setLive(true); startPolling(4000); return; }
    es = new window.EventSource(base + '/stream' + params);
    es.onopen = function () { setLive(true); stopPolling(); };
    es.addEventListener('view', function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      processView(data, false);
      render();
    }, false);
    es.onerror = function () {
      setLive(false);
      if (es && es.readyState === 2) {
        es.close();
        es = null;
        startPolling(10000);
        setTimeout(function () { if (!es) connect(); }, 30000);
      }
    };
  }

  /* ---- rendering ---- */
  function currentSlot(list, now) {
    var i;
    for (i = list.length - 1; i >= 0; i--) if (list[i].view.nowServing.length) return list[i];
    for (i = 0; i < list.length; i++) if (new Date(list[i].view.slot.start).getTime() <= now && now < new Date(list[i].view.slot.end).getTime()) return list[i];
    for (i = 0; i < list.length; i++) if (new Date(list[i].view.slot.start).getTime() > now) return list[i];
    return list[list.length - 1];
  }
  function delayOf(view) {
    var d = view.delayMinutes;
    if (typeof d !== 'number' && view.slot) d = view.slot.delayMinutes;
    return typeof d === 'number' && d > 0 ? Math.round(d) : 0;
  }
  function chips(parent, ids, s, cls) {
    var box = el('div', 'chips');
    for (var i = 0; i < ids.length; i++) box.appendChild(el('span', cls, s.labels[ids[i]]));
    parent.appendChild(box);
  }
  function row(side, title, ids, s, cls, emptyText) {
    var r = el('div', 'row');
    r.appendChild(el('div', 'lbl', title));
    if (ids.length) chips(r, ids, s, cls); else r.appendChild(el('div', 'none', emptyText));
    side.appendChild(r);
  }
  function card(s, now) {
    var v = s.view;
    var c = el('div', 'card' + (s.flashUntil > now ? ' flash' : ''));
    c.setAttribute('data-slot-id', s.id);
    c.setAttribute('data-doctor-id', s.doctor.id);
    var head = el('div', 'head');
    head.appendChild(el('div', 'doc', s.doctor.name));
    head.appendChild(el('div', 'meta', (s.doctor.department ? s.doctor.department + '  \\u00b7  ' : '') + hhmm(v.slot.start) + '\\u2013' + hhmm(v.slot.end)));
    var delay = delayOf(v);
    if (delay) head.appendChild(el('div', 'delay', 'Running about ' + delay + ' min late'));
    else if (v.slot.status === 'CLOSED') head.appendChild(el('div', 'closed', 'Closed'));
    c.appendChild(head);

    var serving = {};
    var i;
    for (i = 0; i < v.nowServing.length; i++) serving[v.nowServing[i].id] = true;
    var nowIds = [];
    var recentIds = [];
    for (i = 0; i < s.order.length; i++) {
      if (serving[s.order[i]]) nowIds.push(s.order[i]);
      else if (recentIds.length < 4) recentIds.push(s.order[i]);
    }
    var body = el('div', 'body');
    var nowBox = el('div', 'now');
    nowBox.appendChild(el('div', 'lbl', 'Now calling'));
    var big = el('div', 'now-num' + (nowIds.length ? '' : ' idle'), nowIds.length ? s.labels[nowIds[0]] : '\\u2014');
    big.setAttribute('data-role', 'now');
    nowBox.appendChild(big);
    if (nowIds.length > 1) {
      var also = [];
      for (i = 1; i < nowIds.length; i++) also.push(s.labels[nowIds[i]]);
      nowBox.appendChild(el('div', 'also', 'also ' + also.join('  ')));
    }
    body.appendChild(nowBox);

    var side = el('div', 'side');
    var next = [];
    var expected = [];
    for (i = 0; i < v.queue.length; i++) {
      if (v.queue[i].status === 'CHECKED_IN') { if (next.length < 5) next.push(v.queue[i].id); }
      else if (expected.length < 6) expected.push(v.queue[i].id);
    }
    row(side, 'Next', next, s, 'chip', 'Nobody waiting');
    if (expected.length) row(side, 'Please check in at the desk', expected, s, 'chip dim small', '');
    if (recentIds.length) row(side, 'Called before', recentIds, s, 'chip old small', '');
    body.appendChild(side);
    c.appendChild(body);
    return c;
  }
  function render() {
    var board = byId('board');
    var now = new Date().getTime();
    var perDoctor = {};
    var doctors = [];
    var id;
    for (id in slots) {
      if (!has(slots, id) || !slots[id].view) continue;
      var d = slots[id].doctor.id;
      if (!has(perDoctor, d)) { perDoctor[d] = []; doctors.push(d); }
      perDoctor[d].push(slots[id]);
    }
    var chosen = [];
    for (var i = 0; i < doctors.length; i++) {
      var list = perDoctor[doctors[i]];
      list.sort(function (a, b) { return new Date(a.view.slot.start).getTime() - new Date(b.view.slot.start).getTime(); });
      chosen.push(currentSlot(list, now));
    }
    chosen.sort(function (a, b) { return a.doctor.name < b.doctor.name ? -1 : a.doctor.name > b.doctor.name ? 1 : 0; });
    while (board.firstChild) board.removeChild(board.firstChild);
    var n = chosen.length;
    board.className = n <= 1 ? 'n1' : n === 2 ? 'n2' : n <= 4 ? 'n4' : n <= 6 ? 'n6' : 'n9';
    if (!n) {
      var empty = el('div', '', loadedOnce ? 'No clinics scheduled today' : 'Loading\\u2026');
      empty.id = 'empty';
      board.appendChild(empty);
      return;
    }
    for (i = 0; i < n && i < 9; i++) board.appendChild(card(chosen[i], now));
    fitAll();
  }
  /* The called token fills its box (labels such as SMI-027 are long); rows of chips drop what
     does not fit and say how many more wait. */
  function fitAll() {
    var i, j;
    var nums = document.querySelectorAll('.now-num');
    for (i = 0; i < nums.length; i++) {
      var big = nums[i];
      var box = big.parentNode;
      var room = box.clientHeight - box.firstChild.offsetHeight - (box.childNodes.length > 2 ? box.lastChild.offsetHeight : 0);
      var size = Math.max(16, Math.floor(room * (big.className.indexOf('idle') >= 0 ? 0.4 : 0.85)));
      big.style.fontSize = size + 'px';
      for (j = 0; j < 30 && big.scrollWidth > big.clientWidth && size > 16; j++) {
        size = Math.floor(size * 0.92);
        big.style.fontSize = size + 'px';
      }
    }
    var rows = document.querySelectorAll('.chips');
    for (i = 0; i < rows.length; i++) {
      var r = rows[i];
      var hidden = 0;
      var fits = function () {
        return r.scrollWidth <= r.clientWidth + 1 && (!r.parentNode.parentNode || r.parentNode.parentNode.scrollHeight <= r.parentNode.parentNode.clientHeight + 1);
      };
      while (!fits() && r.childNodes.length > 1) {
        var last = r.lastChild;
        if (last.className === 'more') { r.removeChild(last); last = r.lastChild; }
        r.removeChild(last);
        hidden++;
        r.appendChild(el('span', 'more', '+' + hidden + ' more'));
      }
    }
  }
  function tick() {
    var d = new Date();
    byId('clock').textContent = pad(d.getHours()) + ':' + pad(d.getMinutes());
    if (dayKey(d) !== today) { window.location.reload(); }
  }

  tick();
  setInterval(tick, 10000);
  setInterval(render, 5000);
  setInterval(loadList, 300000);
  showSoundHint();
  render();
  loadList();
})();
`;

export function displayPage(config: DisplayPageConfig, nonce: string): string {
  const heading = 'Now calling';
  return `<!DOCTYPE html>
<html lang="${escapeHtml(config.lang.split('-')[0] ?? 'en')}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Waiting room \u2013 ${escapeHtml(heading)}</title>
<style>${STYLE}</style>
</head>
<body>
<div id="top"><div id="title">${escapeHtml(heading)}<small>Outpatient department \u00b7 ${escapeHtml(config.branchId)}</small></div><div><span id="status" class="down">Connecting</span><span id="clock"></span></div></div>
<div id="board"></div>
<div id="sound">Sound is off: click or press any key on this screen to enable announcements</div>
<noscript><div id="empty">This display needs JavaScript.</div></noscript>
<script type="application/json" id="opd-config">${scriptJson(config)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}
