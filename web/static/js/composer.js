// Composer enhancements: per-platform character counter, live preview per channel,
// drag-and-drop uploads with progress and thumbnails. All text goes in via textContent.
(function () {
  "use strict";
  var form = document.getElementById("composer");
  if (!form) { return; }
  var channels = JSON.parse(document.getElementById("channel-data").textContent);
  var T = JSON.parse(document.getElementById("composer-text").textContent);
  var body = document.getElementById("body");
  var counter = document.getElementById("counter");
  var previews = document.getElementById("previews");
  var thumbs = document.getElementById("thumbs");
  var input = document.getElementById("upload");
  var drop = document.getElementById("dropzone");
  var bar = document.getElementById("upload-progress");
  var uploadError = document.getElementById("upload-error");
  var URL_RE = /https?:\/\/[^\s]+/g;

  // X counts every URL as 23 and most non-Latin characters (CJK, emoji) as 2.
  function xLength(text) {
    var n = 0;
    var stripped = text.replace(URL_RE, function () { n += 23; return ""; });
    Array.from(stripped).forEach(function (ch) {
      var c = ch.codePointAt(0);
      var light = (c <= 4351) || (c >= 8192 && c <= 8205) || (c >= 8208 && c <= 8223) ||
                  (c >= 8242 && c <= 8247);
      n += light ? 1 : 2;
    });
    return n;
  }
  function length(platform, text) {
    return platform === "x" ? xLength(text) : Array.from(text).length;
  }
  function selected() {
    var ids = Array.from(form.querySelectorAll('input[name="channels"]:checked'))
      .map(function (el) { return parseInt(el.value, 10); });
    return channels.filter(function (c) { return ids.indexOf(c.id) >= 0; });
  }
  function mediaItems() { return Array.from(thumbs.querySelectorAll("figure")); }
  function textFor(c) {
    var o = document.getElementById("o_body_" + c.id);
    return (o && o.value.trim()) ? o.value : body.value;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function update() {
    var chosen = selected();
    var hasMedia = mediaItems().length > 0;
    counter.textContent = "";
    previews.textContent = "";
    document.querySelectorAll("details.override").forEach(function (d) {
      d.hidden = !chosen.some(function (c) { return String(c.id) === d.dataset.channel; });
    });
    if (!chosen.length) {
      counter.appendChild(el("span", "", Array.from(body.value).length + " " + T.characters));
    }
    chosen.forEach(function (c) {
      var text = textFor(c);
      var limit = (hasMedia && c.max_caption) ? c.max_caption : c.max_text;
      var n = length(c.platform, text);
      var span = el("span", limit && n > limit ? "over" : "",
                    c.name + ": " + n + (limit ? " " + T.of + " " + limit : "") + " " + T.characters);
      span.setAttribute("data-platform", c.platform);
      counter.appendChild(span);
      if (c.requires_media && !hasMedia) {
        counter.appendChild(el("span", "over", c.name + ": " + T.media_required));
      }
      var card = el("article", "preview");
      card.setAttribute("data-preview", c.platform);
      var head = el("header");
      head.appendChild(el("span", "plat plat-" + c.platform));
      head.appendChild(document.createTextNode(c.label + " · " + c.name));
      card.appendChild(head);
      var title = document.getElementById("o_title_" + c.id);
      if (title && title.value) { card.appendChild(el("p", "", title.value)).style.fontWeight = "600"; }
      card.appendChild(el("p", "body-text", text));
      var first = thumbs.querySelector("img");
      if (first) {
        var img = document.createElement("img");
        img.src = first.src; img.alt = first.alt;
        card.appendChild(img);
      }
      // The first comment, as it will follow the post (X: the reply), with its own count.
      var fc = document.getElementById("first_comment_" + c.id);
      if (fc && fc.value.trim()) {
        var fn = length(c.platform, fc.value.trim());
        var line = el("p", "first-comment");
        line.appendChild(el("span", "hint", T.first_comment + ": "));
        line.appendChild(document.createTextNode(fc.value));
        card.appendChild(line);
        var fspan = el("span", c.max_first_comment && fn > c.max_first_comment ? "over" : "",
                       c.name + " · " + T.first_comment + ": " + fn + " " + T.of + " " +
                       c.max_first_comment + " " + T.characters);
        counter.appendChild(fspan);
      }
      previews.appendChild(card);
    });
  }
  // The policy panel (htmx) listens for the form's changes: a media added or removed by
  // script changes no field the browser reports, so say it.
  function recheck() { form.dispatchEvent(new Event("change", { bubbles: true })); }
  function addThumb(data) {
    var fig = el("figure");
    fig.dataset.media = data.id;
    var hidden = document.createElement("input");
    hidden.type = "hidden"; hidden.name = "media"; hidden.value = data.id;
    fig.appendChild(hidden);
    if (data.kind === "image") {
      var img = document.createElement("img");
      img.src = data.url; img.alt = data.name;
      fig.appendChild(img);
    } else { fig.appendChild(el("span", "", "🎬")); }
    var cap = el("figcaption", "", data.name.slice(0, 18) + " ");
    var rm = el("button", "link remove-media", "✕");
    rm.type = "button"; rm.setAttribute("aria-label", T.remove + " " + data.name);
    cap.appendChild(rm);
    fig.appendChild(cap);
    if (data.kind === "image") {  // what the image shows (a policy may require it)
      var lab = el("label", "", T.alt_text);
      lab.htmlFor = "alt_" + data.id;
      var alt = document.createElement("input");
      alt.type = "text"; alt.id = "alt_" + data.id; alt.name = "alt_" + data.id;
      alt.maxLength = 1000;
      fig.appendChild(lab);
      fig.appendChild(alt);
    }
    thumbs.appendChild(fig);
    update();
    recheck();
  }
  function upload(file) {
    var fd = new FormData();
    fd.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/media/unggah");
    xhr.setRequestHeader("X-CSRFToken", window.wartaCsrf);
    bar.hidden = false; bar.value = 0;
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = 100 * e.loaded / e.total; } };
    xhr.onload = function () {
      bar.hidden = true;
      var data = {};
      try { data = JSON.parse(xhr.responseText); } catch (err) { data = {}; }
      if (xhr.status === 201) { addThumb(data); }
      else { uploadError.textContent = T.upload_failed + ": " + (data.error || xhr.status); }
    };
    xhr.onerror = function () { bar.hidden = true; uploadError.textContent = T.upload_failed; };
    xhr.send(fd);
  }
  function uploadAll(files) {
    uploadError.textContent = "";
    Array.from(files).forEach(upload);
  }
  input.addEventListener("change", function () { uploadAll(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) { uploadAll(e.dataTransfer.files); });
  thumbs.addEventListener("click", function (e) {
    if (e.target.classList.contains("remove-media")) {
      e.target.closest("figure").remove();
      update();
      recheck();
    }
  });
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  var when = document.getElementById("scheduled_at");
  when.addEventListener("focus", function () {
    var later = form.querySelector('input[name="when"][value="later"]');
    if (later) { later.checked = true; }
  });
  update();
})();
