// The dashboard page: a thin view over the JSON API. Every text from the API is put
// into the page with textContent (never innerHTML), so customer messages stay text.
"use strict";

const TOKEN_KEY = "lotus-dashboard-token";
const state = { page: 1, perPage: 25, search: "", trySession: newSession(), charts: {} };

// --- helpers -----------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);

function newSession() {
  return "s" + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

function showError(message) {
  $("error").textContent = message || "";
}

function when(iso) {
  if (!iso) return "";
  return iso.replace("T", " ").slice(0, 16);
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : (rate * 100).toFixed(1) + "%";
}

function seconds(value) {
  return value === null || value === undefined ? "–" : value.toFixed(2) + " s";
}

// --- API ---------------------------------------------------------------------

class SignedOut extends Error {}

async function api(path, options = {}) {
  const token = localStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignedOut();
  const headers = { Authorization: "Bearer " + token };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) {
    localStorage.removeItem(TOKEN_KEY);
    throw new SignedOut();
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok && !options.allowError) {
    throw new Error(typeof data.detail === "string" ? data.detail : "request failed: HTTP " + response.status);
  }
  return data;
}

// --- sign in -----------------------------------------------------------------

async function authConfig() {
  const response = await fetch("/auth/config");
  return response.json();
}

// Cognito's hosted UI, authorization code flow with PKCE: the page keeps a one-time verifier in this tab,
// sends only its SHA-256 with the sign-in request, and proves it when it trades the code for tokens.
const PKCE_KEY = "lotus-dashboard-pkce";

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function redirectUri() {
  return location.origin + "/";
}

async function startHostedSignIn(config) {
  const verifier = randomText(48);
  const stateValue = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: stateValue }));
  const query = new URLSearchParams({
    response_type: "code", client_id: config.client_id, redirect_uri: redirectUri(), scope: "openid email",
    state: stateValue, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(config.domain + "/oauth2/authorize?" + query.toString());
}

// Back from the hosted UI with ?code=...&state=...: trade the code for an ID token. Returns an error text or null.
async function finishHostedSignIn() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const error = params.get("error");
  if (!code && !error) return null;
  history.replaceState(null, "", location.pathname + "#overview"); // the code is for one use, not for the address bar
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  if (error) return "Sign-in was refused: " + (params.get("error_description") || error);
  if (!saved || saved.state !== params.get("state")) return "That sign-in was not started from this page; please sign in again.";
  const config = await authConfig();
  const response = await fetch(config.domain + "/oauth2/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", client_id: config.client_id, code, redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.id_token) return "Sign-in failed: " + (tokens.error || "HTTP " + response.status);
  localStorage.setItem(TOKEN_KEY, tokens.id_token);
  return null;
}

async function showSignIn(message) {
  $("nav").hidden = true;
  showPage("signin");
  $("signin-error").textContent = message || "";
  const config = await authConfig();
  const cognito = config.mode === "cognito";
  $("signin-form").hidden = cognito;
  $("cognito-signin").hidden = !cognito;
  if (cognito) $("cognito-signin").onclick = () => startHostedSignIn(config);
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
  $("token-input").value = "";
  try {
    await api("/api/me");
    location.hash = "#overview";
    route();
  } catch (err) {
    showSignIn(err instanceof SignedOut ? "That token is not valid." : err.message);
  }
});

$("sign-out").addEventListener("click", async () => {
  localStorage.removeItem(TOKEN_KEY);
  const config = await authConfig();
  if (config.mode === "cognito") {
    // end the hosted UI's session too, or the next "Sign in" would not ask again
    const query = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri() });
    return location.assign(config.domain + "/logout?" + query.toString());
  }
  showSignIn("Signed out.");
});

// --- pages -------------------------------------------------------------------

function showPage(name) {
  for (const section of document.querySelectorAll(".page")) section.hidden = section.id !== "page-" + name;
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("active", link.dataset.page === name || (name === "transcript" && link.dataset.page === "conversations"));
  }
}

async function route() {
  showError("");
  const hash = decodeURIComponent(location.hash.slice(1)) || "overview";
  const [name, ...rest] = hash.split("/");
  const argument = rest.join("/");
  if (!localStorage.getItem(TOKEN_KEY)) return showSignIn();
  $("nav").hidden = false;
  try {
    refreshBadge();
    if (name === "conversation") await renderTranscript(argument);
    else if (name === "inbox") await renderInbox();
    else if (name === "conversations") await renderConversations();
    else if (name === "bookings") await renderBookings();
    else if (name === "knowledge") await renderKnowledge();
    else if (name === "try") renderTry();
    else await renderOverview();
  } catch (err) {
    if (err instanceof SignedOut) return showSignIn("Please sign in.");
    showError(err.message);
  }
}

// overview

function chart(id, config) {
  if (state.charts[id]) state.charts[id].destroy();
  if (typeof Chart === "undefined") return;
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
  state.charts[id] = new Chart($(id), config);
}

function kpi(id, label, value, note) {
  return el("div", { class: "kpi", id: "kpi-" + id }, el("span", { class: "value" }, value), el("span", { class: "label" }, label), note ? el("span", { class: "note" }, note) : null);
}

async function renderOverview() {
  showPage("overview");
  const stats = await api("/api/stats?days=" + $("days").value);
  const t = stats.totals;
  const conv = stats.booking_conversion;
  $("kpis").replaceChildren(
    kpi("conversations", "conversations", t.conversations),
    kpi("messages", "customer messages", t.messages),
    kpi("bookings-created", "bookings made", t.bookings_created),
    kpi("bookings-cancelled", "bookings cancelled", t.bookings_cancelled),
    kpi("fallback-rate", "fallback rate", percent(stats.fallback_rate), t.fallbacks + " not understood or out of scope"),
    kpi("handoffs", "asked for a person", t.handoffs),
    kpi("response-median", "median response", seconds(stats.response_time.median), "p95 " + seconds(stats.response_time.p95)),
    kpi("conversion", "booking conversion", percent(conv.rate), conv.booked + " of " + conv.conversations_with_booking_intent + " conversations"),
  );
  const days = stats.per_day.map((d) => d.day.slice(5));
  chart("chart-messages", {
    type: "bar",
    data: { labels: days, datasets: [
      { label: "customer messages", data: stats.per_day.map((d) => d.messages), backgroundColor: "#7c9a6d" },
      { label: "conversations", data: stats.per_day.map((d) => d.conversations), backgroundColor: "#d9a441" },
    ] },
  });
  chart("chart-bookings", {
    type: "bar",
    data: { labels: days, datasets: [
      { label: "made", data: stats.per_day.map((d) => d.bookings_created), backgroundColor: "#4f7cac" },
      { label: "cancelled", data: stats.per_day.map((d) => d.bookings_cancelled), backgroundColor: "#c0504d" },
    ] },
  });
  chart("chart-intents", {
    type: "bar",
    data: { labels: stats.top_intents.map((i) => i.intent), datasets: [
      { label: "messages", data: stats.top_intents.map((i) => i.count), backgroundColor: "#8e6c8a" },
    ] },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
  chart("chart-fallback", {
    type: "line",
    data: { labels: days, datasets: [
      { label: "fallback rate (%)", data: stats.per_day.map((d) => (d.fallback_rate === null ? null : d.fallback_rate * 100)), borderColor: "#c0504d", spanGaps: true },
    ] },
    options: { scales: { y: { beginAtZero: true, suggestedMax: 20 } } },
  });
  chart("chart-response", {
    type: "line",
    data: { labels: days, datasets: [
      { label: "median", data: stats.per_day.map((d) => d.response_median), borderColor: "#4f7cac", spanGaps: true },
      { label: "p95", data: stats.per_day.map((d) => d.response_p95), borderColor: "#d9a441", spanGaps: true },
    ] },
    options: { scales: { y: { beginAtZero: true } } },
  });
  renderHealth();
}

async function renderHealth() {
  const health = await api("/api/health", { allowError: true });
  const names = { database: "Database", rasa: "Rasa server", actions: "Action server", index: "Knowledge index" };
  $("health").replaceChildren(...Object.entries(names).map(([key, label]) => {
    const part = health[key] || { ok: false, detail: "no answer" };
    return el("li", { class: part.ok ? "ok" : "down", dataset: { part: key } }, el("strong", {}, label + ": "), part.ok ? "up" : "down", el("span", { class: "muted" }, " " + part.detail));
  }));
}

$("days").addEventListener("change", () => route());

// conversations

const LANGUAGE_NAMES = { en: "English", vi: "Tiếng Việt" };

async function renderConversations() {
  showPage("conversations");
  const query = new URLSearchParams({ page: state.page, per_page: state.perPage });
  if (state.search) query.set("q", state.search);
  const data = await api("/api/conversations?" + query.toString());
  const rows = data.items.map((c) => el("tr", { class: "clickable", dataset: { sender: c.sender_id }, onclick: () => { location.hash = "#conversation/" + encodeURIComponent(c.sender_id); } },
    el("td", {}, when(c.last_active_at)),
    el("td", {}, c.sender_id, c.test ? el("span", { class: "badge" }, "test") : null),
    el("td", {}, c.customer_name || ""),
    el("td", {}, c.customer_phone || ""),
    el("td", { class: "num" }, c.messages),
    el("td", { class: "message" }, c.last_message || ""),
    el("td", {}, c.last_intent || ""),
    el("td", { class: "language" }, LANGUAGE_NAMES[c.language] || ""),
  ));
  $("conversation-table").tBodies[0].replaceChildren(...rows);
  const pages = Math.max(1, Math.ceil(data.total / data.per_page));
  $("page-info").textContent = `page ${data.page} of ${pages} (${data.total} conversations)`;
  $("prev-page").disabled = data.page <= 1;
  $("next-page").disabled = data.page >= pages;
}

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.search = $("search").value.trim();
  state.page = 1;
  route();
});
$("prev-page").addEventListener("click", () => { state.page -= 1; route(); });
$("next-page").addEventListener("click", () => { state.page += 1; route(); });

function confidence(value) {
  return value === null || value === undefined ? "" : " " + (value * 100).toFixed(0) + "%";
}

function transcriptLine(item) {
  if (item.kind === "user") {
    const entities = (item.entities || []).map((e) => el("span", { class: "entity" }, e.entity + "=" + e.value));
    return el("div", { class: "bubble customer", dataset: { kind: "user" } },
      el("div", { class: "text" }, item.text || ""),
      el("div", { class: "meta" }, el("span", { class: "intent" }, (item.intent || "no intent") + confidence(item.confidence)), ...entities, el("time", {}, when(item.at))),
    );
  }
  if (item.kind === "bot" && !item.text && !item.image) {
    // a payload for the connector, not a message (the handoff to a person)
    return el("div", { class: "event detail", dataset: { kind: "bot-payload" } }, "handed to a person");
  }
  if (item.kind === "bot") {
    const buttons = (item.buttons || []).map((b) => el("span", { class: "button-chip", title: b.payload || "" }, b.title || ""));
    return el("div", { class: "bubble bot", dataset: { kind: "bot" } },
      el("div", { class: "text" }, item.text || (item.image ? "[image]" : "")),
      buttons.length ? el("div", { class: "buttons" }, buttons) : null,
      el("div", { class: "meta" }, item.response ? el("span", {}, item.response) : null, el("time", {}, when(item.at))),
    );
  }
  if (item.kind === "staff") {
    return el("div", { class: "bubble staff", dataset: { kind: "staff" } },
      el("div", { class: "text" }, item.text || ""),
      el("div", { class: "meta" }, el("span", { class: "staff-mark" }, "staff: " + (item.author || "")), item.tag ? el("span", {}, item.tag) : null, el("time", {}, when(item.at))),
    );
  }
  let text;
  if (item.kind === "action") {
    if (item.name === "action_listen") return null;
    text = "action " + item.name + (item.policy ? " (" + item.policy.replace(/^policy_\d+_/, "") + confidence(item.confidence) + ")" : "");
  } else if (item.kind === "slot") text = "slot " + item.name + " = " + JSON.stringify(item.value);
  else if (item.kind === "active_loop") text = item.name ? "form " + item.name + " started" : "form ended";
  else text = item.kind.replace(/_/g, " ");
  return el("div", { class: "event detail", dataset: { kind: item.kind } }, text);
}

async function renderTranscript(sender) {
  showPage("transcript");
  $("transcript").replaceChildren();
  const data = await api("/api/conversations/" + encodeURIComponent(sender));
  $("transcript-sender").textContent = data.sender_id;
  $("transcript-customer").textContent = data.customer_name ? `Customer: ${data.customer_name} (${data.customer_phone || "no phone"})` : "Customer not known yet";
  $("transcript").replaceChildren(...data.events.map(transcriptLine).filter(Boolean));
  $("transcript").classList.toggle("hide-details", !$("show-details").checked);
  $("transcript-bookings").tBodies[0].replaceChildren(...data.bookings.map((b) => el("tr", {},
    el("td", {}, el("a", { href: "#bookings", onclick: () => { state.showReference = b.reference; } }, b.reference)),
    el("td", {}, b.service), el("td", {}, b.staff), el("td", {}, when(b.starts_at)), el("td", {}, b.status),
  )));
}

$("show-details").addEventListener("change", () => $("transcript").classList.toggle("hide-details", !$("show-details").checked));

// inbox: conversations a person holds

function waitingText(secondsWaiting) {
  const minutes = Math.floor(secondsWaiting / 60);
  if (minutes < 60) return minutes + " min";
  return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
}

const REASONS = { request_human: "asked for a person", complaint: "complaint", failed: "the assistant could not help" };

function showBadge(count) {
  $("waiting-badge").textContent = String(count);
  $("waiting-badge").classList.toggle("some", count > 0);
}

async function refreshBadge() {
  try {
    showBadge((await api("/api/handoffs")).count);
  } catch (err) {
    if (!(err instanceof SignedOut)) showError(err.message);
  }
}

function handoffCard(handoff) {
  const log = el("div", { class: "transcript" });
  const input = el("input", { name: "text", autocomplete: "off", placeholder: "Reply to the customer", required: true, maxlength: 2000 });
  const status = el("p", { class: "muted", role: "status" });
  const form = el("form", { class: "reply-form" }, input, el("button", { type: "submit" }, "Send"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "";
    try {
      const sent = await api("/api/conversations/" + encodeURIComponent(handoff.sender_id) + "/reply", { method: "POST", body: { text: input.value } });
      input.value = "";
      status.textContent = sent.tag ? "Sent with the " + sent.tag + " tag (more than 24 hours since the customer wrote)." : "Sent.";
      await fillLog(handoff.sender_id, log);
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn("Please sign in.");
      status.textContent = err.message;
    }
  });
  const release = el("button", { type: "button", class: "release" }, "Hand back to the assistant");
  release.addEventListener("click", async () => {
    try {
      await api("/api/conversations/" + encodeURIComponent(handoff.sender_id) + "/release", { method: "POST", body: {} });
      await renderInbox();
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn("Please sign in.");
      status.textContent = err.message;
    }
  });
  const card = el("article", { class: "handoff", dataset: { sender: handoff.sender_id } },
    el("h3", {}, el("a", { href: "#conversation/" + encodeURIComponent(handoff.sender_id) }, handoff.customer_name || handoff.sender_id)),
    el("p", { class: "muted" }, (REASONS[handoff.reason] || handoff.reason) + " · waiting " + waitingText(handoff.waiting_seconds) + " · since " + when(handoff.opened_at)),
    log, form, status, release,
  );
  fillLog(handoff.sender_id, log).catch((err) => { status.textContent = err.message; });
  return card;
}

async function fillLog(sender, log) {
  const data = await api("/api/conversations/" + encodeURIComponent(sender));
  const lines = data.events.filter((e) => ["user", "bot", "staff"].includes(e.kind)).slice(-12);
  log.replaceChildren(...lines.map(transcriptLine).filter(Boolean));
  log.scrollTop = log.scrollHeight;
}

async function renderInbox() {
  showPage("inbox");
  const data = await api("/api/handoffs");
  showBadge(data.count);
  $("inbox-empty").hidden = data.count > 0;
  $("inbox-list").replaceChildren(...data.items.map(handoffCard));
}

$("inbox-refresh").addEventListener("click", () => route());

// bookings

async function renderBookings() {
  showPage("bookings");
  const query = new URLSearchParams();
  if ($("filter-from").value) query.set("from", $("filter-from").value);
  if ($("filter-to").value) query.set("to", $("filter-to").value);
  if ($("filter-status").value) query.set("status", $("filter-status").value);
  const data = await api("/api/bookings?" + query.toString());
  $("booking-table").tBodies[0].replaceChildren(...data.items.map((b) => el("tr", { dataset: { reference: b.reference } },
    el("td", {}, el("a", { href: "#bookings", class: "reference", onclick: (event) => { event.preventDefault(); showBooking(b.reference); } }, b.reference)),
    el("td", {}, when(b.starts_at)), el("td", {}, b.service), el("td", {}, b.staff),
    el("td", {}, b.customer_name), el("td", { class: "phone" }, b.customer_phone), el("td", { class: "num" }, b.price),
    el("td", { class: "status status-" + b.status }, b.status),
    el("td", {}, b.status === "confirmed" ? el("button", { type: "button", class: "danger cancel", onclick: () => askCancel(b) }, "Cancel") : null),
  )));
  $("booking-count").textContent = data.count + " bookings";
  if (state.showReference) {
    const reference = state.showReference;
    state.showReference = null;
    await showBooking(reference);
  }
}

async function showBooking(reference) {
  const b = await api("/api/bookings/" + encodeURIComponent(reference));
  const fact = (label, value) => [el("dt", {}, label), el("dd", {}, value === null || value === undefined ? "" : value)];
  $("booking-detail").replaceChildren(
    el("h3", {}, "Booking " + b.reference),
    el("dl", { class: "facts" },
      fact("Customer", b.customer_name), fact("Phone", b.customer_phone), fact("Service", b.service), fact("Staff", b.staff),
      fact("Starts", when(b.starts_at)), fact("Price", b.price), fact("Status", b.status),
      fact("Cancellation fee", b.cancellation_fee), fact("Sender", b.sender_id),
    ),
    el("h4", {}, "History"),
    el("ul", {}, b.history.map((h) => el("li", {}, when(h.at) + " " + h.action + " by " + h.actor))),
    el("a", { href: "#conversation/" + encodeURIComponent(b.sender_id) }, "Open the conversation"),
  );
  $("booking-detail").hidden = false;
}

function askCancel(booking) {
  const dialog = $("confirm-cancel");
  $("confirm-text").textContent = `Cancel booking ${booking.reference}: ${booking.service} with ${booking.staff} on ${when(booking.starts_at)} for ${booking.customer_name}?`;
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "cancel") return;
    try {
      const done = await api("/api/bookings/" + encodeURIComponent(booking.reference) + "/cancel", { method: "POST", body: {} });
      await renderBookings();
      await showBooking(done.reference);
    } catch (err) {
      if (err instanceof SignedOut) return showSignIn("Please sign in.");
      showError(err.message);
    }
  };
  dialog.showModal();
}

$("booking-filters").addEventListener("submit", (event) => { event.preventDefault(); route(); });

// knowledge

async function renderKnowledge() {
  showPage("knowledge");
  showKnowledge(await api("/api/knowledge"));
}

function showKnowledge(k) {
  const fact = (label, value) => [el("dt", {}, label), el("dd", {}, value === null || value === undefined ? "" : value)];
  if (!k.available) {
    $("knowledge-status").replaceChildren(
      ...fact("Index", "not built yet: " + (k.error || "")),
      ...(k.rebuild ? fact("Last rebuild", k.rebuild.state + " (" + when(k.rebuild.started_at) + ")") : []),
    );
  } else {
    $("knowledge-status").replaceChildren(
      ...fact("Version", k.version), ...fact("Built", when(k.built_at)), ...fact("Model", k.model),
      ...fact("Documents", k.document_count), ...fact("Chunks", k.chunk_count),
      ...fact("Up to date", k.stale ? "no: documents changed since the build" : "yes"),
      ...(k.published_at ? fact("Published", when(k.published_at)) : []),
      ...(k.rebuild ? fact("Last rebuild", k.rebuild.state + " (" + when(k.rebuild.started_at) + ")") : []),
    );
  }
  $("knowledge-documents").tBodies[0].replaceChildren(...(k.documents || []).map((d) => el("tr", {}, el("td", {}, d.source), el("td", {}, d.title || ""), el("td", { class: "num" }, d.chunks))));
}

// On AWS a rebuild runs as a task for a few minutes (k.rebuild.state "running"): the page looks again
// until it has finished. Locally it runs in the request and answers with its figures.
const REBUILD_POLL_MS = 5000;

async function followRebuild() {
  while (true) {
    const k = await api("/api/knowledge");
    if (location.hash === "#knowledge") showKnowledge(k);
    const state = k.rebuild ? k.rebuild.state : null;
    if (state !== "running") return k;
    await new Promise((resolve) => setTimeout(resolve, REBUILD_POLL_MS));
  }
}

$("rebuild").addEventListener("click", async () => {
  $("rebuild").disabled = true;
  $("rebuild-result").textContent = "Rebuilding…";
  try {
    const k = await api("/api/knowledge/rebuild", { method: "POST", body: {} });
    if (k.rebuild && k.rebuild.state === "running") {
      $("rebuild-result").textContent = "Rebuild started; the new index is published when it ends (a few minutes).";
      const done = await followRebuild();
      $("rebuild-result").textContent = done.rebuild.state === "succeeded"
        ? "Rebuilt and published: version " + done.version + "."
        : "The rebuild ended without publishing: " + (done.rebuild.detail || done.rebuild.state) + ".";
    } else {
      $("rebuild-result").textContent = `Rebuilt: ${k.embedded} chunks embedded in ${k.seconds} s.`;
      showKnowledge(k);
    }
  } catch (err) {
    $("rebuild-result").textContent = "";
    if (err instanceof SignedOut) return showSignIn("Please sign in.");
    showError(err.message);
  } finally {
    $("rebuild").disabled = false;
  }
});

// try the bot

function renderTry() {
  showPage("try");
  $("try-sender").textContent = "dashboard-try-" + state.trySession;
  $("try-input").focus();
}

function addChat(kind, text, buttons) {
  const chips = (buttons || []).map((b) => el("button", { type: "button", class: "button-chip", onclick: () => sendTry(b.payload, b.title) }, b.title || ""));
  $("try-log").append(el("div", { class: "bubble " + kind }, el("div", { class: "text" }, text), chips.length ? el("div", { class: "buttons" }, chips) : null));
  $("try-log").scrollTop = $("try-log").scrollHeight;
}

async function sendTry(message, shown) {
  addChat("customer", shown || message);
  try {
    const data = await api("/api/try", { method: "POST", body: { session: state.trySession, message } });
    if (!data.replies.length) addChat("bot muted", "(no reply)");
    for (const reply of data.replies) addChat("bot", reply.text || (reply.image ? "[image]" : ""), reply.buttons);
  } catch (err) {
    if (err instanceof SignedOut) return showSignIn("Please sign in.");
    addChat("bot error", err.message);
  }
}

$("try-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("try-input").value;
  $("try-input").value = "";
  sendTry(text);
});

$("try-reset").addEventListener("click", () => {
  state.trySession = newSession();
  $("try-log").replaceChildren();
  renderTry();
});

// --- start -------------------------------------------------------------------

async function start() {
  const problem = await finishHostedSignIn().catch((err) => "Sign-in failed: " + err.message);
  if (problem) return showSignIn(problem);
  route();
}

window.addEventListener("hashchange", route);
start();
