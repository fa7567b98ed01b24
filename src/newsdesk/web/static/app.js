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
})();
