// Calls an authenticated rpcbridge procedure from Node.js with nothing but built-in modules.
// Usage: node examples/signed_call.js URL USERNAME API_KEY [params|header]
// Prints the JSON-RPC reply. See docs/auth.md for the scheme.
const crypto = require("crypto");
const http = require("http");

const [url, username, apiKey, form = "params"] = process.argv.slice(2);
const hmac = (text) => crypto.createHmac("sha256", apiKey).update(text).digest("hex");
const nonce = crypto.randomBytes(16).toString("hex"); // at least 16 characters
const timestamp = Math.floor(Date.now() / 1000);

let params = [];
const headers = { "Content-Type": "application/json" };
if (form === "params") {
  // rpcenable-compatible: nonce, timestamp, username, HMAC over "nonce;timestamp;username" first.
  params = [nonce, timestamp, username, hmac(`${nonce};${timestamp};${username}`)];
}
const body = JSON.stringify({ jsonrpc: "2.0", method: "account.whoami", params, id: 1 });
const target = new URL(url);
if (form === "header") {
  // The header form also signs the method, the path and the body.
  const bodyHash = crypto.createHash("sha256").update(body).digest("hex");
  const signed = ["RPCBRIDGE-HMAC-SHA256", "POST", target.pathname, timestamp, nonce, username, bodyHash].join("\n");
  headers.Authorization =
    `RPCBRIDGE-HMAC-SHA256 Credential=${username}, Nonce=${nonce}, Timestamp=${timestamp}, Signature=${hmac(signed)}`;
}
const request = http.request(target, { method: "POST", headers }, (response) => {
  let text = "";
  response.on("data", (chunk) => (text += chunk));
  response.on("end", () => console.log(text));
});
request.end(body);
