// Runs the Cronofy Node SDK (npm `cronofy`, unchanged) through availability against Horae: an application
// calendar with one meeting, availability (query_periods, slots), an availability rule and a managed
// availability query, and sequenced availability.
//
// Input: one JSON object on stdin (or as the first argument):
//   {"api_url": "http://127.0.0.1:PORT", "client_id": "...", "client_secret": "...",
//    "application_calendar_id": "...", "day": "YYYY-MM-DD"}
// Output: a JSON summary on stdout of what each call returned. Exit status 1, with the reason on stderr,
// when a call fails.

import { readFileSync } from 'node:fs';
import Cronofy from 'cronofy';

function readConfig () {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  for (const key of ['api_url', 'client_id', 'client_secret', 'application_calendar_id', 'day']) {
    if (typeof config[key] !== 'string' || config[key] === '') {
      throw new Error(`config is missing "${key}"`);
    }
  }
  return config;
}

// UTC time `hours` after midnight of `day` (YYYY-MM-DD), as Cronofy writes times.
function at (day, hours) {
  const time = new Date(`${day}T00:00:00Z`);
  time.setTime(time.getTime() + hours * 3600 * 1000);
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function main () {
  const config = readConfig();
  const client = new Cronofy({ client_id: config.client_id, client_secret: config.client_secret });
  client.urls.api = config.api_url.replace(/\/+$/, '');
  const day = config.day;
  const summary = {};

  const token = await client.applicationCalendar({ application_calendar_id: config.application_calendar_id });
  summary.sub = token.sub;
  const calendars = await client.listCalendars();
  const calendarId = calendars.calendars[0].calendar_id;
  await client.createEvent({ calendar_id: calendarId, event_id: 'busy', summary: 'Busy', start: at(day, 10), end: at(day, 11) });

  const members = [{ sub: token.sub }];
  summary.slots = await client.availability({
    participants: [{ members, required: 'all' }],
    required_duration: { minutes: 60 },
    query_periods: [{ start: at(day, 9), end: at(day, 13) }],
    response_format: 'slots'
  });

  summary.rule = await client.upsertAvailabilityRule({
    availability_rule_id: 'mornings',
    tzid: 'Etc/UTC',
    weekly_periods: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday']
      .map((weekday) => ({ day: weekday, start_time: '09:00', end_time: '12:00' }))
  });
  summary.managed = await client.availability({
    participants: [{ members: [{ sub: token.sub, managed_availability: true }], required: 'all' }],
    required_duration: { minutes: 30 },
    query_periods: [{ start: at(day, 0), end: at(day, 24) }]
  });

  summary.sequences = await client.sequencedAvailability({
    query_periods: [{ start: at(day, 9), end: at(day, 14) }],
    sequence: [
      { sequence_id: 'first', ordinal: 1, participants: [{ members, required: 'all' }], required_duration: { minutes: 60 }, start_interval: { minutes: 60 } },
      { sequence_id: 'second', ordinal: 2, participants: [{ members, required: 'all' }], required_duration: { minutes: 60 }, start_interval: { minutes: 60 }, buffer: { before: { minimum: { minutes: 60 } } } }
    ]
  });
  process.stdout.write(JSON.stringify(summary));
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n${JSON.stringify(err.error ?? null)}\n`);
  process.exit(1);
});
