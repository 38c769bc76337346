/* Enhancements only: every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // A refused form moves focus to its error summary, so screen readers hear what went wrong.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    setupRoleChoice();
    setupRankings();
    setupLive();
  });

  function setupRoleChoice() {
    var client = document.getElementById("role-client");
    var block = document.querySelector(".client-only");
    if (!client || !block) { return; }
    function sync() { block.hidden = !client.checked; }
    document.querySelectorAll("input[name=role]").forEach(function (input) { input.addEventListener("change", sync); });
    sync();
  }

  // Ranked ballots: the no-script form has a numbered select per option; with a script, the list can
  // be reordered with the keyboard (Space picks up, arrows move, Space drops) or by dragging, and
  // the selects are kept in step, so the same form is sent either way.
  function setupRankings() {
    document.querySelectorAll("[data-ranking]").forEach(function (box) {
      var list = box.querySelector(".ranking");
      if (!list) { return; }
      box.classList.add("enhanced");
      box.querySelectorAll(".rank-select").forEach(function (el) { el.hidden = true; });
      var live = box.querySelector("[data-ranking-status]");
      var items = Array.prototype.slice.call(list.querySelectorAll("li"));
      // A roving tab stop: Tab enters the list once and leaves it; the arrows move inside.
      function rove(target) {
        Array.prototype.slice.call(list.querySelectorAll("li")).forEach(function (li) { li.tabIndex = -1; });
        target.tabIndex = 0;
        target.focus();
      }
      items.forEach(function (item, index) {
        item.hidden = false;
        item.tabIndex = index === 0 ? 0 : -1;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.addEventListener("keydown", function (event) { onKey(event, item); });
        item.draggable = true;
        item.addEventListener("dragstart", function (event) { event.dataTransfer.setData("text/plain", item.dataset.option); item.classList.add("moving"); });
        item.addEventListener("dragend", function () { item.classList.remove("moving"); });
        item.addEventListener("dragover", function (event) { event.preventDefault(); });
        item.addEventListener("drop", function (event) {
          event.preventDefault();
          var moved = list.querySelector("[data-option='" + event.dataTransfer.getData("text/plain") + "']");
          if (moved && moved !== item) { list.insertBefore(moved, item); sync(moved); }
        });
      });
      list.setAttribute("role", "listbox");
      list.hidden = false;
      var help = box.querySelector("[data-ranking-help]");
      if (help) { help.hidden = false; }
      function onKey(event, item) {
        var grabbed = item.getAttribute("aria-selected") === "true";
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          item.setAttribute("aria-selected", grabbed ? "false" : "true");
          item.classList.toggle("moving", !grabbed);
          say(grabbed ? box.dataset.dropped : box.dataset.grabbed, item);
        } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && grabbed) {
          event.preventDefault();
          var sibling = event.key === "ArrowUp" ? item.previousElementSibling : item.nextElementSibling;
          if (sibling) {
            if (event.key === "ArrowUp") { list.insertBefore(item, sibling); } else { list.insertBefore(sibling, item); }
            rove(item);
            sync(item);
          }
        } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
          event.preventDefault();
          var next = event.key === "ArrowUp" ? item.previousElementSibling : item.nextElementSibling;
          if (next) { rove(next); }
        }
      }
      function sync(item) {
        Array.prototype.slice.call(list.querySelectorAll("li")).forEach(function (li, index) {
          li.querySelector(".rank").textContent = String(index + 1);
          var select = box.querySelector("select[name='rank:" + li.dataset.option + "']");
          if (select) { select.value = String(index + 1); }
        });
        if (item) { say(box.dataset.moved, item); }
      }
      function say(template, item) {
        if (!live || !template) { return; }
        var position = Array.prototype.indexOf.call(list.children, item) + 1;
        live.textContent = template.replace("{option}", item.dataset.label).replace("{position}", String(position));
      }
      sync(null);
    });
  }

  // Live participation: server-sent events over the cookie session.
  function setupLive() {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (!window.EventSource) { return; }
      var source = new EventSource(el.dataset.live);
      function show(event) {
        try {
          var data = JSON.parse(event.data);
          el.textContent = el.dataset.template.replace("{voted}", data.voted).replace("{size}", data.electorate_size);
          if (data.state === "closed") { source.close(); }
        } catch (error) { /* a malformed event changes nothing */ }
      }
      source.addEventListener("participation", show);
      source.addEventListener("closed", show);
    });
  }
})();
