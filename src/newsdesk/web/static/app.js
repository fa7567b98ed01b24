// Newsdesk reading room: CSRF header for htmx, keyboard shortcuts, copy buttons.
// Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf;
  });

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("#cards .card, .cards .card"));
  }

  function current() {
    return document.querySelector(".card.current");
  }

  function select(card) {
    var previous = current();
    if (previous) previous.classList.remove("current");
    if (!card) return;
    card.classList.add("current");
    card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function move(step) {
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(current());
    var next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), list.length - 1);
    select(list[next]);
    if (step > 0 && next === list.length - 1) {
      var more = document.querySelector(".more");
      if (more) more.click();
    }
  }

  function target() {
    // The entry in focus: the selected card in a river, the article on an entry page.
    return current() || document.querySelector("article.entry");
  }

  function press(selector) {
    var item = target();
    if (!item) return;
    var button = item.querySelector(selector);
    if (!button) return;
    var form = button.form;
    var actions = button.closest(".actions");
    // htmx.ajax works even on content swapped in a moment ago, before htmx has processed it
    // (a plain click then would submit the form the old way).
    if (window.htmx && form && actions) {
      window.htmx.ajax("POST", form.getAttribute("action"), {
        source: form,
        target: "#" + actions.id,
        swap: "outerHTML"
      });
    } else {
      button.click();
    }
  }

  function openOriginal() {
    var item = target();
    var url = item && item.getAttribute("data-original");
    if (url) window.open(url, "_blank", "noopener,noreferrer");
  }

  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.href = link.getAttribute("href");
  }

  var help = document.getElementById("shortcuts");
  function showHelp() {
    if (help && !help.open) help.showModal();
  }

  var pendingG = false;
  var gTimer = null;

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var el = event.target;
    var tag = el && el.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el && el.isContentEditable)) {
      if (event.key === "Escape" && el.blur) el.blur();
      return;
    }
    if (help && help.open) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      clearTimeout(gTimer);
      var places = { a: "/", c: "/categories", s: "/?show=starred" };
      if (places[key]) {
        event.preventDefault();
        window.location.href = places[key];
      }
      return;
    }
    var page = document.body.getAttribute("data-page");
    switch (key) {
      case "j":
        if (page === "entry") follow("older-link"); else move(1);
        break;
      case "k":
        if (page === "entry") follow("newer-link"); else move(-1);
        break;
      case "o":
      case "Enter":
        var card = current();
        if (card) window.location.href = card.getAttribute("data-href");
        else if (key === "Enter") return;
        break;
      case "v":
        openOriginal();
        break;
      case "s":
        press(".star-button");
        break;
      case "m":
        press(".read-button");
        break;
      case "/":
        var box = document.getElementById("search-input");
        if (box) { box.focus(); box.select(); }
        break;
      case "r":
        var refresh = document.getElementById("refresh-button");
        if (refresh) refresh.click();
        break;
      case "g":
        pendingG = true;
        gTimer = setTimeout(function () { pendingG = false; }, 1500);
        break;
      case "?":
        showHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var el = event.target;
    if (!(el instanceof Element)) return;
    if (el.closest("#help-button")) {
      showHelp();
      return;
    }
    var copy = el.closest("#copy-digest");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-target"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.value).then(function () {
          copy.textContent = "Copied";
        });
      } else if (source) {
        source.select();
        document.execCommand("copy");
        copy.textContent = "Copied";
      }
      return;
    }
    // A click on a card (not on one of its links or buttons) selects it, like j/k.
    var card = el.closest(".card");
    if (card && !el.closest("a, button, form")) select(card);
  });

  // Mark read on scroll (a person's reading habit, off unless chosen on the Account page): a
  // card whose bottom has gone above the top of the window is marked read. The cards are in
  // reading order, so one pointer walks them as the page scrolls (a fast scroll passes many
  // at once). The ids go in batches, at most one POST a second and one when the page is left
  // (keepalive), with the CSRF token; a story card marks its whole story, as its button does.
  var river = document.getElementById("cards");
  if (river && river.getAttribute("data-mark-read-on-scroll") === "1" && window.fetch) {
    var watched = [];  // the river's cards, top to bottom
    var next = 0;      // the first of them not scrolled past yet
    var queued = {};   // entry id -> its card's story id ("" for none)
    var timer = null;
    var pending = false;

    var readForm = function (card) {
      var button = card.querySelector(".read-button");
      return button ? button.form : null;
    };

    var showRead = function (card) {
      var actions = card.querySelector(".actions");
      if (actions) actions.setAttribute("data-read", "1");
      var form = readForm(card);
      if (!form) return;
      var value = form.querySelector('input[name="value"]');
      if (value) value.value = "0";
      var button = form.querySelector(".read-button");
      button.setAttribute("aria-pressed", "true");
      button.textContent = "Mark unread";
    };

    var flush = function () {
      clearTimeout(timer);
      timer = null;
      var ids = Object.keys(queued);
      if (!ids.length) return;
      var stories = [];
      ids.forEach(function (id) { if (queued[id]) stories.push(queued[id]); });
      queued = {};
      var body = new URLSearchParams();
      body.set("csrf_token", csrf);
      body.set("ids", ids.join(","));
      body.set("stories", stories.join(","));
      fetch("/entries/read", {
        method: "POST",
        body: body,
        credentials: "same-origin",
        keepalive: true,
        headers: { "X-CSRF-Token": csrf }
      }).then(function (response) {
        if (!response.ok) return;
        ids.forEach(function (id) {
          var card = document.getElementById("entry-" + id);
          if (card) showRead(card);
        });
      }).catch(function () {});
    };

    var passed = function (card) {
      var id = card.getAttribute("data-entry");
      var actions = card.querySelector(".actions");
      // An entry read already (or marked unread again by hand after) is left as it is.
      if (!id || !actions || actions.getAttribute("data-read") !== "0") return;
      var form = readForm(card);
      var story = form ? form.querySelector('input[name="story"]') : null;
      queued[id] = story ? story.value : "";
      if (!timer) timer = setTimeout(flush, 1000);
    };

    var scan = function () {
      pending = false;
      while (next < watched.length && watched[next].getBoundingClientRect().bottom <= 0) {
        passed(watched[next]);
        next += 1;
      }
    };

    var watchCards = function () {
      river.querySelectorAll(".card:not([data-watched])").forEach(function (card) {
        card.setAttribute("data-watched", "1");
        watched.push(card);
      });
      scan();
    };

    window.addEventListener("scroll", function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(scan);
    }, { passive: true });
    document.addEventListener("htmx:afterSettle", watchCards);  // the next page of cards
    window.addEventListener("pagehide", function () { scan(); flush(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { scan(); flush(); }
    });
    watchCards();
  }
})();
