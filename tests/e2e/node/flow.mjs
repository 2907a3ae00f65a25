// Runs the Cronofy Node SDK (npm `cronofy`, unchanged) through the OAuth token calls against Horae.
//
// Input: one JSON object on stdin (or as the first argument):
//   {"api_url": "http://127.0.0.1:PORT", "client_id": "...", "client_secret": "...",
//    "code": "...", "redirect_uri": "http://127.0.0.1:PORT/callback"}
// Output: a JSON summary on stdout of what each call returned. Exit status 1, with the reason
// on stderr, when a call that should succeed fails.

import { readFileSync } from 'node:fs';
import Cronofy from 'cronofy';

function readConfig () {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  for (const key of ['api_url', 'client_id', 'client_secret', 'code', 'redirect_uri']) {
    if (typeof config[key] !== 'string' || config[key] === '') {
      throw new Error(`config is missing "${key}"`);
    }
  }
  return config;
}

// A call expected to fail: what the SDK's error carries.
async function failure (promise) {
  try {
    const value = await promise;
    return { failed: false, value };
  } catch (err) {
    return { failed: true, status: err.statusCode ?? null, body: err.error?.entity ?? null };
  }
}

async function main () {
  const config = readConfig();
  const client = new Cronofy({ client_id: config.client_id, client_secret: config.client_secret });
  // The SDK has no option for the host: its constructor fills in urls.api, which is replaced here.
  client.urls.api = config.api_url.replace(/\/+$/, '');

  const summary = {};

  const token = await client.requestAccessToken({ code: config.code, redirect_uri: config.redirect_uri });
  summary.token = token;
  summary.stored_after_exchange = { access_token: client.config.access_token, refresh_token: client.config.refresh_token };

  summary.userinfo = await client.userInfo();
  summary.account = await client.accountInformation();
  summary.profiles = await client.profileInformation();

  const refreshed = await client.refreshAccessToken();
  summary.refreshed = refreshed;
  summary.stored_after_refresh = { access_token: client.config.access_token, refresh_token: client.config.refresh_token };
  // Uses the refreshed token the SDK now holds.
  summary.userinfo_after_refresh = await client.userInfo();

  // Sends the stored refresh token as `refresh_token`, with the client credentials in the body.
  await client.revokeAuthorization();
  summary.revoked = true;
  summary.stored_after_revoke = { access_token: client.config.access_token ?? null, refresh_token: client.config.refresh_token ?? null };

  summary.after_revoke = {
    refreshed_access_token: await failure(client.userInfo({ access_token: refreshed.access_token })),
    first_access_token: await failure(client.accountInformation({ access_token: token.access_token })),
    refresh: await failure(client.refreshAccessToken({ refresh_token: token.refresh_token }))
  };

  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((err) => {
  const detail = err.error ? ` (HTTP ${err.statusCode} from ${err.error.url}: ${JSON.stringify(err.error.entity)})` : '';
  process.stderr.write(`flow.mjs failed: ${err.stack ?? err}${detail}\n`);
  process.exit(1);
});
