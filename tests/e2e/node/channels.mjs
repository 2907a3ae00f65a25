// Runs the Cronofy Node SDK (npm `cronofy`, unchanged) through the push channel calls against Horae,
// and checks notification signatures with the SDK's own `hmacValid`.
//
// Input: one JSON object on stdin (or as the first argument):
//   {"api_url": "http://127.0.0.1:PORT", "client_id": "...", "client_secret": "...", "access_token": "...",
//    "steps": [{"do": "create", "callback_url": "...", "filters": {...}},
//              {"do": "list"},
//              {"do": "close", "channel_id": "..."},
//              {"do": "hmac", "hmac": "<Cronofy-HMAC-SHA256 header>", "body": "<raw body>", "client_secret": "..."?}]}
// Output: a JSON array on stdout with one result per step. A failed call is reported as
// {"failed": true, "status": ..., "body": ...} so the test can check refusals too.

import { readFileSync } from 'node:fs';
import Cronofy from 'cronofy';

function readConfig () {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  for (const key of ['api_url', 'client_id', 'client_secret', 'access_token']) {
    if (typeof config[key] !== 'string' || config[key] === '') {
      throw new Error(`config is missing "${key}"`);
    }
  }
  if (!Array.isArray(config.steps)) {
    throw new Error('config is missing "steps"');
  }
  return config;
}

async function settle (promise) {
  try {
    return { failed: false, value: (await promise) ?? null };
  } catch (err) {
    return { failed: true, status: err.statusCode ?? null, body: err.error?.entity ?? null };
  }
}

async function run (client, step) {
  switch (step.do) {
    case 'create': {
      const options = { callback_url: step.callback_url };
      if (step.filters) options.filters = step.filters;
      return settle(client.createNotificationChannel(options));
    }
    case 'list':
      return settle(client.listNotificationChannels());
    case 'close':
      return settle(client.deleteNotificationChannel({ channel_id: step.channel_id }));
    case 'hmac': {
      const options = { hmac: step.hmac, body: step.body };
      if (step.client_secret) options.client_secret = step.client_secret;
      return { failed: false, value: client.hmacValid(options) };
    }
    default:
      throw new Error(`unknown step ${JSON.stringify(step)}`);
  }
}

async function main () {
  const config = readConfig();
  const client = new Cronofy({
    client_id: config.client_id,
    client_secret: config.client_secret,
    access_token: config.access_token
  });
  // The SDK has no option for the host: its constructor fills in urls.api, which is replaced here.
  client.urls.api = config.api_url.replace(/\/+$/, '');

  const results = [];
  for (const step of config.steps) {
    results.push(await run(client, step));
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((err) => {
  process.stderr.write(`channels.mjs failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
