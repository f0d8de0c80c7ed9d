// csms console: the little script of the server-rendered pages, served from
// /console/assets/console.js. It reads /v1.1 with the session cookie (GET only) and
// writes to the page with textContent only: nothing a charger sends becomes markup.
(function () {
  'use strict';

  var body = document.body;
  var page = body.dataset.page;

  function getJson(path) {
    return fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error('HTTP ' + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      });
  }

  function every(ms, task) {
    var run = function () {
      Promise.resolve()
        .then(task)
        .catch(function () { /* shown as stale data; the next round retries */ })
        .then(function () { window.setTimeout(run, ms); });
    };
    window.setTimeout(run, ms);
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    if (className) { td.className = className; }
    td.textContent = text === undefined || text === null ? '' : String(text);
    row.appendChild(td);
    return td;
  }

  function setState(element, station) {
    if (!element) { return; }
    var state = !station.active ? 'inactive' : (station.online ? 'online' : 'offline');
    element.className = 'state ' + state;
    element.textContent = state;
  }

  function setTime(container, iso) {
    if (!container || !iso) { return; }
    var time = document.createElement('time');
    time.dateTime = iso;
    time.textContent = iso;
    container.replaceChildren(time);
  }

  // --- the chargers list: online state and last message, kept current -------------
  function chargersPage() {
    every(2000, function () {
      return getJson('/v1.1/chargestations?paginate_limit=1000&sort_order=asc').then(function (answer) {
        var online = 0;
        answer.result.forEach(function (station) {
          if (station.online && station.active) { online += 1; }
          var row = document.querySelector('tr[data-station-id="' + CSS.escape(station._id) + '"]');
          if (!row) {
            window.location.reload();
            return;
          }
          setState(row.querySelector('.state'), station);
          var last = row.querySelector('.last-message');
          var shown = last.querySelector('time');
          if (station.lastMessageAt && (!shown || shown.dateTime !== station.lastMessageAt)) {
            setTime(last, station.lastMessageAt);
            lastFrame(row, station._id);
          }
        });
        var count = document.getElementById('online-count');
        if (count) { count.textContent = String(online); }
      });
    });
  }

  // The newest logged frame of a charger, in a few words (as the server renders it).
  function lastFrame(row, id) {
    var cell = row.querySelector('.last-frame');
    if (!cell) { return; }
    getJson('/v1.1/chargestations/' + encodeURIComponent(id) + '/messages?paginate_limit=1').then(function (answer) {
      var frame = answer.result[0];
      if (frame) {
        cell.textContent = [frame.direction, frame.type, frame.action].filter(Boolean).join(' · ');
      }
    }, function () { /* the message log may be off: keep what is shown */ });
  }

  // --- one charger's page ------------------------------------------------------------
  function stationPage() {
    var id = body.dataset.station;
    var base = '/v1.1/chargestations/' + encodeURIComponent(id);

    document.querySelectorAll('button.use-key').forEach(function (button) {
      button.addEventListener('click', function () {
        var key = document.getElementById('change-key');
        var value = document.getElementById('change-value');
        key.value = button.dataset.key;
        var current = button.closest('tr').querySelector('.value');
        value.value = current ? current.textContent : '';
        value.focus();
      });
    });

    every(2000, function () {
      return getJson(base).then(function (answer) {
        setState(document.querySelector('h1 .state'), answer.result);
      });
    });

    watchActions();
    messageLog(base);
  }

  // Actions still `requested` are polled until they end; their row then shows the
  // outcome and the charger's answer.
  function watchActions() {
    var pending = Array.prototype.slice.call(
      document.querySelectorAll('tr[data-action-id][data-status="requested"]'));
    if (pending.length === 0) { return; }
    every(1000, function () {
      var still = [];
      return Promise.all(pending.map(function (row) {
        return getJson('/v1.1/actions/' + encodeURIComponent(row.dataset.actionId)).then(function (answer) {
          var action = answer.result;
          if (action.status === 'requested') {
            still.push(row);
            return;
          }
          row.dataset.status = action.status;
          var badge = row.querySelector('.status');
          badge.className = 'status ' + action.status;
          badge.textContent = action.status;
          var code = row.querySelector('.answer code');
          if (code && action.response_data !== undefined) {
            code.textContent = JSON.stringify(action.response_data);
          }
          if (row.dataset.type === 'get_configuration' && action.status === 'completed') {
            window.location.reload();
          } else if (row.dataset.type === 'update_configuration') {
            refreshConfiguration();
          }
        }, function () { still.push(row); });
      })).then(function () {
        pending = still;
      });
    });
  }

  function refreshConfiguration() {
    var base = '/v1.1/chargestations/' + encodeURIComponent(body.dataset.station);
    return getJson(base + '/configurations/details').then(function (answer) {
      answer.result.forEach(function (detail) {
        var row = document.querySelector('tr[data-key="' + CSS.escape(detail.name) + '"]');
        var value = row && row.querySelector('.value');
        if (value) { value.textContent = detail.value; }
      });
    });
  }

  // The live message log: the newest page on load, then every new frame from the
  // Server-Sent Events stream, newest on top.
  function messageLog(base) {
    var table = document.getElementById('message-log');
    var state = document.getElementById('log-state');
    if (!table) { return; }
    var seen = new Set();
    var MAX_ROWS = 500;

    function showState(text, className) {
      state.textContent = text;
      state.className = 'log-state ' + (className || '');
    }

    function row(item, fresh) {
      if (seen.has(item._id)) { return null; }
      seen.add(item._id);
      var tr = document.createElement('tr');
      tr.className = item.direction + (fresh ? ' fresh' : '');
      tr.dataset.messageId = item._id;
      tr.dataset.direction = item.direction;
      tr.dataset.type = item.type || '';
      tr.dataset.action = item.action || '';
      // The time of day in the cell (UTC, like the timestamp); the whole timestamp on hover.
      cell(tr, String(item.timestamp).slice(11, 23)).title = item.timestamp;
      cell(tr, item.direction === 'in' ? 'charger → server' : 'server → charger');
      cell(tr, item.type);
      cell(tr, item.action);
      cell(tr, item.message_id);
      cell(tr, item.round_trip_ms === undefined ? '' : item.round_trip_ms + ' ms');
      var frame = document.createElement('code');
      frame.textContent = typeof item.payload === 'string' ? item.payload : JSON.stringify(item.payload);
      cell(tr, '').appendChild(frame);
      return tr;
    }

    function trim() {
      while (table.rows.length > MAX_ROWS) { table.deleteRow(-1); }
    }

    var stream = new EventSource(base + '/messages/stream');
    stream.addEventListener('open', function () { showState('live', 'live'); });
    stream.addEventListener('message', function (event) {
      var tr = row(JSON.parse(event.data), true);
      if (tr) {
        table.insertBefore(tr, table.firstChild);
        trim();
      }
    });
    stream.addEventListener('error', function () {
      showState(stream.readyState === EventSource.CLOSED ? 'unavailable' : 'reconnecting…', 'down');
    });

    getJson(base + '/messages?paginate_limit=100').then(function (answer) {
      answer.result.forEach(function (item) {
        var tr = row(item, false);
        if (tr) { table.appendChild(tr); }
      });
      trim();
    }, function (error) {
      showState('message log unavailable (' + error.message + ')', 'down');
    });
  }

  if (page === 'chargers') { chargersPage(); }
  if (page === 'station') { stationPage(); }
})();
