// End-to-end test of the operator console in headless Debian Chromium, driven by
// playwright-core. Run by scripts/browser-test, which starts csms and passes:
//   CSMS_URL       http://127.0.0.1:PORT (the API listener, which serves /console)
//   CSMS_API_KEY   a key csms accepts
//   OCPP_URL       ws://127.0.0.1:PORT/ocpp
//   SIM_BIN        the csms-sim binary; this script starts it (and records its pid in
//                  SIM_PID_FILE so the caller's trap can stop it too)
//   SIM_LOG        where the simulator's output goes
//   SCREENSHOT     where to save the screenshot artefact
// Every wait polls with a deadline (Playwright's waitFor); nothing sleeps a fixed time.
'use strict';

const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const env = (name) => {
  const value = process.env[name];
  if (!value) { throw new Error(`${name} is not set`); }
  return value;
};
const CSMS_URL = env('CSMS_URL');
const API_KEY = env('CSMS_API_KEY');
const OCPP_URL = env('OCPP_URL');
const SIM_BIN = env('SIM_BIN');
const SIM_LOG = env('SIM_LOG');
const SIM_PID_FILE = env('SIM_PID_FILE');
const SCREENSHOT = env('SCREENSHOT');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const IDENTITY = 'CP-BROWSER';
// Markup in what the charger sends must show as text, never become elements.
const VENDOR = '<i>Sim</i>';
const KEY = 'MeterValueSampleInterval';
const VALUE = '42';
const WAIT = { timeout: 30000 };

let step = 0;
function log(text) {
  step += 1;
  console.log(`[browser-test] ${step}. ${text}`);
}

async function api(method, urlPath, body) {
  const response = await fetch(CSMS_URL + urlPath, {
    method,
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) { throw new Error(`${method} ${urlPath}: ${response.status} ${JSON.stringify(json)}`); }
  return json;
}

function startSimulator() {
  const out = fs.openSync(SIM_LOG, 'a');
  const sim = spawn(SIM_BIN, [
    '--url', OCPP_URL,
    '--identity', IDENTITY,
    '--vendor', VENDOR,
    '--model', 'Browser-AC',
    '--serial', 'SN-0001',
    '--connectors', '2',
    '--heartbeat-secs', '3',
  ], { stdio: ['ignore', out, out] });
  fs.writeFileSync(SIM_PID_FILE, String(sim.pid));
  return sim;
}

function check(condition, what) {
  if (!condition) { throw new Error(`check failed: ${what}`); }
}

async function main() {
  await api('POST', '/v1.1/chargestations', { endpoint: IDENTITY });
  log(`created chargestation ${IDENTITY}`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  let sim = null;
  const problems = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') { problems.push(`console error: ${message.text()}`); }
    });

    await page.goto(`${CSMS_URL}/console`);
    check(new URL(page.url()).pathname === '/console/login', `sent to the login form, got ${page.url()}`);
    log('an unauthenticated visit lands on the login form');

    await page.fill('#key', 'not-the-key');
    await page.click('button[type=submit]');
    await page.locator('.banner.error', { hasText: 'not valid' }).waitFor(WAIT);
    // Chromium reports the refused login's 401 as a console error: expected here only.
    problems.length = 0;
    log('a wrong key is refused');

    await page.fill('#key', API_KEY);
    await Promise.all([page.waitForURL(`${CSMS_URL}/console`), page.click('button[type=submit]')]);
    const row = page.locator(`tr[data-identity="${IDENTITY}"]`);
    await row.locator('.state.offline').waitFor(WAIT);
    log('logged in; the charger is listed offline');

    sim = startSimulator();
    await row.locator('.state.online').waitFor(WAIT);
    await page.waitForFunction(
      (identity) => {
        const cell = document.querySelector(`tr[data-identity="${identity}"] .last-frame`);
        return cell && /^(in|out) · CALL/.test(cell.textContent);
      },
      IDENTITY,
      WAIT,
    );
    log('the simulated charger came online in the list, with its last frame (no reload)');

    await page.reload();
    const vendorCell = row.locator('td').nth(2);
    check(await vendorCell.textContent() === VENDOR, 'the vendor shows as text');
    check(await vendorCell.locator('i').count() === 0, 'no element made from the vendor');
    log('markup from the charger shows as text');

    await Promise.all([page.waitForURL(/\/console\/chargestations\//), row.locator('a').click()]);
    const logState = page.locator('#log-state');
    await page.locator('#log-state.live').waitFor(WAIT).catch(async () => {
      throw new Error(`the live message log did not connect: "${await logState.textContent()}"`);
    });
    log('the charger page is open and its live message log is connected');

    await Promise.all([page.waitForURL(/done=upload/), page.click('#request-upload')]);
    await page.locator(`tr[data-key="${KEY}"]`).waitFor(WAIT);
    log('a configuration upload filled the configuration table');

    await page.locator(`button.use-key[data-key="${KEY}"]`).click();
    check(await page.inputValue('#change-key') === KEY, 'clicking a key fills the form');
    await page.fill('#change-value', VALUE);
    await Promise.all([page.waitForURL(/done=change/), page.click('form.change-key button[type=submit]')]);
    const action = page.locator('tr[data-type="update_configuration"]').first();
    await page.locator('tr[data-type="update_configuration"][data-status="completed"]').first().waitFor(WAIT);
    check((await action.locator('code').first().textContent()).includes(VALUE), 'the action shows the value sent');
    await page.waitForFunction(
      ([key, value]) => {
        const cell = document.querySelector(`tr[data-key="${key}"] .value`);
        return cell && cell.textContent === value;
      },
      [KEY, VALUE],
      WAIT,
    );
    log(`the form changed ${KEY} to ${VALUE}; the action reached completed`);

    const frames = page.locator('#message-log');
    await frames.locator('tr[data-direction="out"][data-type="CALL"][data-action="ChangeConfiguration"]').first().waitFor(WAIT);
    await frames.locator('tr[data-direction="in"][data-type="CALLRESULT"][data-action="ChangeConfiguration"]').first().waitFor(WAIT);
    const sent = await frames.locator('tr[data-direction="out"][data-action="ChangeConfiguration"] code').first().textContent();
    check(sent.includes(KEY) && sent.includes(VALUE), `the ChangeConfiguration frame carries the change: ${sent}`);
    log('the ChangeConfiguration frame and its answer are in the message log');

    await frames.locator('tr.fresh[data-direction="in"][data-type="CALL"][data-action="Heartbeat"]').first().waitFor(WAIT);
    log('a Heartbeat arrived live over the event stream');

    check(problems.length === 0, `no script errors or blocked loads: ${problems.join('; ')}`);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    log(`screenshot saved to ${SCREENSHOT}`);

    await Promise.all([page.waitForURL(`${CSMS_URL}/console/login`), page.click('.logout button')]);
    await page.goto(`${CSMS_URL}/console`);
    check(new URL(page.url()).pathname === '/console/login', 'logged out');
    log('logged out');
  } finally {
    await browser.close();
    if (sim && sim.exitCode === null) { sim.kill('SIGINT'); }
  }
}

main().then(
  () => { console.log(`[browser-test] 1 passed, 0 failed (${step} steps)`); },
  (error) => {
    console.error(`[browser-test] FAILED after step ${step}: ${error.stack || error}`);
    console.log('[browser-test] 0 passed, 1 failed');
    process.exit(1);
  },
);
