// A non-Python XML-RPC client (the npm "xmlrpc" package) calling the bridge.
// Usage: node xmlrpc_client.js URL METHOD [JSON-ARGS]; prints the result as tagged JSON.
const xmlrpc = require("xmlrpc");

function tag(value) {
  if (Buffer.isBuffer(value)) return { base64: value.toString("base64") };
  if (value instanceof Date) return { dateTime: value.toISOString() };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tag(v)]));
  }
  return value;
}

const [url, method, args] = process.argv.slice(2);
const client = xmlrpc.createClient(url);
client.methodCall(method, args ? JSON.parse(args) : [], (error, value) => {
  if (error) {
    console.log(JSON.stringify({ fault: { code: error.faultCode ?? null, message: error.faultString ?? String(error) } }));
  } else {
    console.log(JSON.stringify({ result: tag(value) }));
  }
});
