// The admin's live events view: subscribes to every public event on the frontend's /ws and lists
// each as it arrives (newest first). Resumes with "since" after a drop, so nothing is missed.
"use strict";
(function () {
  const list = document.getElementById("live-events");
  const state = document.getElementById("live-state");
  const url = list.dataset.wsUrl;
  let since = null;

  function show(params) {
    const row = document.createElement("tr");
    for (const text of [params.offset, params.type, params.id, JSON.stringify(params.data)]) {
      const cell = document.createElement("td");
      cell.textContent = String(text);
      row.appendChild(cell);
    }
    list.prepend(row);
    while (list.rows.length > 200) list.deleteRow(-1);
  }

  function connect() {
    const ws = new WebSocket(url);
    ws.onopen = function () {
      const params = { events: ["*"] };
      if (since) params.since = since;
      ws.send(JSON.stringify({ jsonrpc: "2.0", method: "rpc.subscribe", params: params, id: 1 }));
    };
    ws.onmessage = function (message) {
      const data = JSON.parse(message.data);
      if (data.id === 1 && data.result) {
        since = since || { epoch: data.result.epoch, offset: data.result.offset };
        state.textContent = "live";
      } else if (data.method === "rpc.event") {
        since = { epoch: data.params.epoch, offset: data.params.offset };
        show(data.params);
      }
    };
    ws.onclose = function (event) {
      state.textContent = "disconnected (" + event.code + "), reconnecting";
      setTimeout(connect, 1000);
    };
  }

  connect();
})();
