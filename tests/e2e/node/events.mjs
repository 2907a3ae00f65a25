// Runs the Cronofy Node SDK (npm `cronofy`, unchanged) through calendars and events against Horae:
// an application calendar, listCalendars, createCalendar, createEvent, batch, readEvents and freeBusy
// following next_page, deleteEvent and bulkDeleteEvents.
//
// Input: one JSON object on stdin (or as the first argument):
//   {"api_url": "http://127.0.0.1:PORT", "client_id": "...", "client_secret": "...",
//    "application_calendar_id": "...", "first_day": "YYYY-MM-DD", "from": "YYYY-MM-DD", "to": "YYYY-MM-DD",
//    "paged_events": 250}
// Output: a JSON summary on stdout of what each call returned. Exit status 1, with the reason on stderr,
// when a call that should succeed fails.

import { readFileSync } from 'node:fs';
import Cronofy from 'cronofy';

function readConfig () {
  const text = process.argv[2] ?? readFileSync(0, 'utf8');
  const config = JSON.parse(text);
  for (const key of ['api_url', 'client_id', 'client_secret', 'application_calendar_id', 'first_day', 'from', 'to']) {
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

// UTC time `hours` after midnight of `day` (YYYY-MM-DD), as Cronofy writes times.
function at (day, hours) {
  const time = new Date(`${day}T00:00:00Z`);
  time.setTime(time.getTime() + hours * 3600 * 1000);
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Every page of a paged read: the first call, then `next_page` (with the tzid again, which the SDK
// appends as a query string) until there is none.
async function allPages (read, options, key) {
  const pages = [];
  let page = await read(options);
  pages.push(page);
  while (page.pages.next_page) {
    page = await read({ next_page: page.pages.next_page, tzid: options.tzid });
    pages.push(page);
  }
  return {
    pages: pages.map((p) => p.pages),
    items: pages.flatMap((p) => p[key])
  };
}

async function main () {
  const config = readConfig();
  const client = new Cronofy({ client_id: config.client_id, client_secret: config.client_secret });
  // The SDK has no option for the host: its constructor fills in urls.api, which is replaced here.
  client.urls.api = config.api_url.replace(/\/+$/, '');
  const summary = {};

  // Sent with `Bearer undefined` and the credentials in the body; the SDK keeps the tokens.
  summary.application_calendar = await client.applicationCalendar({ application_calendar_id: config.application_calendar_id });
  summary.stored_access_token = client.config.access_token;

  summary.calendars = await client.listCalendars();
  const profileId = summary.calendars.calendars[0].profile_id;
  summary.created = await client.createCalendar({ profile_id: profileId, name: 'Node events' });
  summary.duplicate = await failure(client.createCalendar({ profile_id: profileId, name: 'Node events' }));
  summary.calendars_after = await client.listCalendars();
  const calendarId = summary.created.calendar.calendar_id;
  const primaryId = summary.calendars.calendars[0].calendar_id;
  const day = config.first_day;

  const reads = { tzid: 'Etc/UTC', from: config.from, to: config.to, include_managed: true };
  const readEvents = (options) => client.readEvents(options);
  const freeBusy = (options) => client.freeBusy(options);

  // createEvent in the three time forms; a second call with the same event_id updates.
  summary.create = [
    await client.createEvent({ calendar_id: calendarId, event_id: 'utc', summary: 'UTC', start: at(day, 9), end: at(day, 10) }),
    await client.createEvent({ calendar_id: calendarId, event_id: 'all-day', summary: 'All day', start: at(day, 72).slice(0, 10), end: at(day, 96).slice(0, 10) }),
    await client.createEvent({
      calendar_id: calendarId,
      event_id: 'zoned',
      summary: 'Zoned',
      start: { time: at(day, 38), tzid: 'Europe/London' },
      end: { time: at(day, 39), tzid: 'Europe/London' },
      tzid: 'Europe/London'
    }),
    await client.createEvent({ calendar_id: calendarId, event_id: 'utc', summary: 'UTC (moved)', start: at(day, 11), end: at(day, 12) })
  ];
  summary.invalid = await failure(client.createEvent({ calendar_id: calendarId, event_id: 'x', start: at(day, 9), end: at(day, 10) }));
  summary.unknown_calendar = await failure(client.createEvent({ calendar_id: 'cal_not_mine', event_id: 'x', summary: 'x', start: at(day, 9), end: at(day, 10) }));
  summary.small_read = await allPages(readEvents, { ...reads, calendar_ids: [calendarId] }, 'events');
  summary.small_read_localized = await allPages(readEvents, { ...reads, calendar_ids: [calendarId], localized_times: true }, 'events');
  summary.small_free_busy = await allPages(freeBusy, { ...reads, calendar_ids: [calendarId] }, 'free_busy');

  summary.delete = await client.deleteEvent({ calendar_id: calendarId, event_id: 'utc' });
  summary.after_delete = await allPages(readEvents, { ...reads, calendar_ids: [calendarId] }, 'events');

  // Batches of 50 upserts into the primary calendar, then reads that need several pages.
  summary.batches = [];
  for (let first = 0; first < config.paged_events; first += 50) {
    const batch = [];
    for (let n = first; n < first + 50; n++) {
      batch.push({
        method: 'POST',
        relative_url: `/v1/calendars/${primaryId}/events`,
        data: { event_id: `bulk-${n}`, summary: `Bulk ${n}`, start: at(day, n), end: at(day, n + 0.5) }
      });
    }
    summary.batches.push(await client.batch({ batch }));
  }
  summary.mixed_batch = await client.batch({
    batch: [
      { method: 'DELETE', relative_url: `/v1/calendars/${primaryId}/events`, data: { event_id: 'bulk-0' } },
      { method: 'POST', relative_url: `/v1/calendars/${primaryId}/events`, data: { event_id: 'no-summary', start: at(day, 1), end: at(day, 2) } }
    ]
  });
  summary.too_big_batch = await failure(client.batch({
    batch: Array.from({ length: 51 }, (_, n) => ({
      method: 'DELETE', relative_url: `/v1/calendars/${primaryId}/events`, data: { event_id: `bulk-${n}` }
    }))
  }));
  summary.paged_read = await allPages(readEvents, { ...reads, calendar_ids: [primaryId] }, 'events');
  summary.paged_free_busy = await allPages(freeBusy, { ...reads, calendar_ids: [primaryId] }, 'free_busy');

  // Bulk deletes: by calendar, then everything the application made.
  summary.bulk_delete_calendar = await client.bulkDeleteEvents({ calendar_ids: [primaryId] });
  summary.after_bulk_calendar = {
    primary: (await allPages(readEvents, { ...reads, calendar_ids: [primaryId] }, 'events')).items,
    other: (await allPages(readEvents, { ...reads, calendar_ids: [calendarId] }, 'events')).items
  };
  summary.bulk_delete_all = await client.bulkDeleteEvents({ delete_all: true });
  summary.after_bulk_all = (await allPages(readEvents, reads, 'events')).items;
  summary.bulk_delete_both = await failure(client.bulkDeleteEvents({ delete_all: true, calendar_ids: [primaryId] }));

  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((err) => {
  const detail = err.error ? ` (HTTP ${err.statusCode} from ${err.error.url}: ${JSON.stringify(err.error.entity)})` : '';
  process.stderr.write(`events.mjs failed: ${err.stack ?? err}${detail}\n`);
  process.exit(1);
});
