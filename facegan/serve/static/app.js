// The page of `facegan serve`: plain JavaScript, no libraries, nothing fetched from outside this server.
"use strict";
const $ = (id) => document.getElementById(id);
let job = null;  // the id of the photo now shown

// tabs
for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll('[role="tab"]')) {
      other.setAttribute("aria-selected", other === tab);
      $(other.dataset.panel).hidden = other !== tab;
    }
  });
}

function say(text) {
  $("message").textContent = text || "";
  $("message").hidden = !text;
}

function progressShown(text, fraction = null) {
  $("status").hidden = text === null;
  $("status-text").textContent = text || "";
  if (fraction === null) $("progress").removeAttribute("value");  // indeterminate
  else $("progress").value = fraction;
}

async function answer(response) {
  // every API answer is JSON; a problem carries {"error": "..."}
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON: a proxy's page, a dropped connection */ }
  if (!response.ok || body === null) {
    const problem = new Error(body && body.error ? body.error : `the server answered ${response.status}`);
    problem.busy = response.status === 503 || response.status === 429;  // "busy: N ahead, try again in about T s"
    throw problem;
  }
  return body;
}

// aging a photo
const REFUSED = 80 * 2 ** 20;  // the server refuses an upload this large unparsed: say it here without sending it
let kept = null;  // the photo the server was too busy for, kept so that "try again" sends it without a new pick
let picks = 0;  // each upload's number: what the server answers to an earlier pick is not shown

async function upload(file, name) {
  const pick = ++picks;
  say("");
  job = null;  // a new pick leaves the photo before it: its page stops following it
  kept = null;
  $("retry").hidden = true;
  $("results").hidden = true;
  if (file.size > REFUSED) {
    say(`the file is ${(file.size / 2 ** 20).toFixed(1)} MB; the limit is 10 MB`);
    return;
  }
  progressShown("uploading", null);
  const form = new FormData();
  form.append("photo", file, name || file.name || "photo");
  form.append("from_age", $("from-age").value);
  try {
    const started = await answer(await fetch("/api/age", { method: "POST", body: form }));
    if (pick !== picks) return;
    job = started.job;
    await follow(job);
  } catch (problem) {
    if (pick !== picks) return;
    progressShown(null);
    say(problem.message === "Failed to fetch" ? "the server cannot be reached" : problem.message);
    if (problem.busy) {
      kept = { file, name };
      $("retry").hidden = false;
    }
  }
}
$("retry").addEventListener("click", () => { if (kept) upload(kept.file, kept.name); });

async function follow(id) {
  for (;;) {
    const state = await answer(await fetch(`/api/jobs/${id}`));
    if (id !== job) return;  // another photo was chosen meanwhile
    if (state.state === "queued") {
      progressShown(`waiting: ${state.ahead} photo${state.ahead === 1 ? "" : "s"} ahead of yours`, null);
    } else if (state.state === "running") {
      const text = state.total ? `aging: step ${state.done} of ${state.total}` : "finding the face";
      progressShown(text, state.total ? state.done / state.total : null);
    } else if (state.state === "error") {
      throw new Error(state.message);
    } else {
      progressShown(null);
      show(id, state.result, state.seconds);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function figure(src, caption, age) {
  const item = document.createElement("figure");
  const image = document.createElement("img");
  image.src = src;
  image.alt = caption;
  if (age !== undefined) image.dataset.age = age;
  const text = document.createElement("figcaption");
  text.textContent = caption;
  item.append(image, text);
  return item;
}

function show(id, result, seconds) {
  $("original").src = result.original;
  $("source-age").textContent = `${result.source_age}`;
  $("aged").replaceChildren(...result.ages.map((age) => figure(result.aged[age], `at ${age}`, age)));
  $("notes").textContent = result.notes.join("; ");
  $("results").title = `aged in ${seconds.toFixed(1)} s`;
  $("results").hidden = false;
  pick();
}

function pick() {
  const age = $("target-age").value;
  $("target-age-shown").textContent = age;
  if (!job) return;
  $("preview").src = `/api/jobs/${job}/result.png?age=${age}`;
  $("download").href = `/api/jobs/${job}/result.png?age=${age}&download=1`;
}
$("target-age").addEventListener("input", pick);

$("photo").addEventListener("change", () => {
  if ($("photo").files.length) upload($("photo").files[0]);
  $("photo").value = "";  // the same file chosen again is a new upload
});
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) upload(event.dataTransfer.files[0]);
});

// the webcam, where the browser allows it (a secure context: localhost or https)
let stream = null;
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) $("webcam").hidden = false;
$("webcam").addEventListener("click", async () => {
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true });
    $("video").srcObject = stream;
    $("camera").hidden = false;
  } catch (problem) {
    say(`the webcam cannot be used: ${problem.message}`);
  }
});
function cameraOff() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  $("camera").hidden = true;
}
$("camera-off").addEventListener("click", cameraOff);
$("snap").addEventListener("click", () => {
  const video = $("video"), canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  cameraOff();
  canvas.toBlob((blob) => upload(blob, "webcam.jpg"), "image/jpeg", 0.92);
});

// new faces and morphs
let drawn = { seed: 0, first: 0, last: 1 };
function choose(index) {
  // a click picks the morph's first face, the next its last, and so on
  if (drawn.picking === "last") drawn.last = index; else drawn.first = index;
  drawn.picking = drawn.picking === "last" ? "first" : "last";
  $("faces").querySelectorAll("img").forEach((image, i) => {
    image.classList.toggle("first", i === drawn.first);
    image.classList.toggle("last", i === drawn.last);
  });
}

async function facesCall(url, work) {
  $("faces-message").textContent = "drawing...";
  try {
    work(await answer(await fetch(url)));
    $("faces-message").textContent = "";
  } catch (problem) {
    $("faces-message").textContent = problem.message;
  }
}

$("draw").addEventListener("click", () => {
  const seed = $("seed").value;
  facesCall(`/api/faces?seed=${encodeURIComponent(seed)}`, (body) => {
    drawn = { seed, first: 0, last: 1, picking: "first" };
    $("faces").replaceChildren(...body.faces.map((src, index) => {
      const image = document.createElement("img");
      image.src = src;
      image.alt = `face ${index}`;
      image.addEventListener("click", () => choose(index));
      return image;
    }));
    choose(0); choose(1);
    $("morph").disabled = false;
    $("morphing").hidden = true;
  });
});

$("morph").addEventListener("click", () => {
  facesCall(`/api/morph?seed=${encodeURIComponent(drawn.seed)}&first=${drawn.first}&last=${drawn.last}&frames=9`,
    (body) => {
      $("frames").replaceChildren(...body.frames.map((src, index) => {
        const image = document.createElement("img");
        image.src = src;
        image.alt = `frame ${index}`;
        return image;
      }));
      $("morph-slider").max = body.frames.length - 1;
      $("morph-slider").value = 0;
      $("morph-view").src = body.frames[0];
      $("morphing").hidden = false;
    });
});
$("morph-slider").addEventListener("input", () => {
  $("morph-view").src = $("frames").children[$("morph-slider").value].src;
});
