/**
 * The waiting-room display and the token page in a real browser (Debian's chromium through
 * playwright-core), against the whole system: a booking shows up on the board, call-next puts it
 * in "Now calling" and announces it once, a reload does not announce it again, and a patient's
 * token page follows check-in live. Leaves a screenshot in .cache/screenshots/display.png.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped with a message without it.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { call, createSlot } from '../support/http';
import { startSystem, type TestSystem } from '../support/system';

// Run inside the page (the test program itself has no DOM types).
declare const document: any;
declare const window: any;

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const SCREENSHOT = path.join(__dirname, '..', '..', '.cache', 'screenshots', 'display.png');

if (!haveChromium) {
  console.warn(`SKIPPED test/browser/display.test.ts: ${CHROMIUM} not found (install it with: apt-get install -y chromium)`);
}
const describeBrowser = haveChromium ? describe : describe.skip;

let system: TestSystem;
let browser: Browser;
const api = (method: string, path: string, body?: unknown) => call(system.edgeUrl, method, path, body);
/** What the board shows for a token: its label (SMI-007) where it has one, else #number. */
const shown = (t: { number: number; label?: string }) => t.label ?? `#${t.number}`;
/** What is spoken: the number of the label (SMI-027 -> 27), else the number. */
const spoken = (t: { number: number; label?: string }) => (t.label ? String(Number(t.label.split('-').pop())) : String(t.number));
const book = async (slotId: string, name: string, source: string) => {
  const answer = await api('POST', '/api/tokens/book', { slotId, source, patient: { name, phone: `+91 98 ${Math.floor(Math.random() * 1e8)}` } });
  if (answer.status !== 201) throw new Error(`book: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.token as { id: string; number: number; label?: string; status: string };
};

async function doctorWithSlot(branchId: string, name: string, department: string, capacity: number) {
  const doctor = await api('POST', '/api/doctors', { branchId, name, department });
  if (doctor.status !== 201) throw new Error(`doctor: ${doctor.status}`);
  const slotId = await createSlot(system.edgeUrl, doctor.body.doctor.id, { capacity, startOffsetMinutes: -5, minutes: 120 });
  return { doctorId: doctor.body.doctor.id as string, slotId };
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return errors;
}

describeBrowser('waiting-room display in chromium', () => {
  beforeAll(async () => {
    [system, browser] = await Promise.all([
      startSystem({ label: 'display' }),
      chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await system?.close();
  });

  it('shows bookings, puts a called token in "Now calling", announces it once, and reads well', async () => {
    const branchId = `branch-${Date.now().toString(36)}`;
    const smith = await doctorWithSlot(branchId, 'Dr. Smith', 'General Medicine', 20);
    const nair = await doctorWithSlot(branchId, 'Dr. Priya Nair', 'Paediatrics', 20);
    const first = await book(smith.slotId, 'Ravi Kumar', 'WALK_IN');
    const second = await book(smith.slotId, 'Meena Iyer', 'ONLINE');
    const third = await book(smith.slotId, 'John Mathew', 'WALK_IN');
    const nairFirst = await book(nair.slotId, 'Anil Patient', 'WALK_IN');
    for (const name of ['Lakshmi', 'Farah']) await book(nair.slotId, `${name} Patient`, 'WALK_IN');
    expect((await api('POST', `/api/slots/${nair.slotId}/call-next`)).status).toBe(200);

    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${system.edgeUrl}/display/${branchId}?lang=en-US`);

    const smithCard = page.locator(`[data-slot-id="${smith.slotId}"]`);
    // Walk-ins are checked in: "Next"; the online booking has not arrived yet: "check in" row.
    await expect(smithCard.locator('.chip', { hasText: shown(first) }).first().textContent()).resolves.toBe(shown(first));
    await smithCard.locator('.chip', { hasText: shown(second) }).first().waitFor();
    await smithCard.locator('.chip', { hasText: shown(third) }).first().waitFor();
    await page.waitForFunction(() => document.querySelector('#status')?.className === 'live');
    // The snapshot on opening is silent: Dr. Nair's #1 was called before the page opened.
    expect(await page.evaluate(() => (window as any).opdDisplay.announcements.length)).toBe(0);
    await expect(page.locator(`[data-slot-id="${nair.slotId}"] [data-role=now]`).textContent()).resolves.toBe(shown(nairFirst));

    const called = await api('POST', `/api/slots/${smith.slotId}/call-next`);
    expect(called.status).toBe(200);
    expect(called.body.token.id).toBe(first.id);
    await page.waitForFunction(
      ({ slotId, label }) => document.querySelector(`[data-slot-id="${slotId}"] [data-role=now]`)?.textContent === label,
      { slotId: smith.slotId, label: shown(first) },
      { timeout: 10_000 },
    );
    const announcements = await page.evaluate(() => (window as any).opdDisplay.announcements.map((a: any) => a.text));
    expect(announcements).toEqual([`Token ${spoken(first)}, Doctor Smith`]);

    // Never patient names on the public board, not even in the data the page holds.
    const text = await page.evaluate(() => document.body.innerText + JSON.stringify((window as any).opdDisplay.slots));
    for (const name of ['Ravi', 'Meena', 'John', 'Anil', 'Lakshmi', 'Farah']) expect(text).not.toContain(name);

    // Give the flash animation time to settle, then keep a picture of the board.
    await page.waitForTimeout(600);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(20_000);

    // A reload (or a reconnect) never announces a call twice; a new call is announced once.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#status')?.className === 'live');
    await page.waitForFunction(
      ({ slotId, label }) => document.querySelector(`[data-slot-id="${slotId}"] [data-role=now]`)?.textContent === label,
      { slotId: smith.slotId, label: shown(first) },
    );
    expect((await api('PATCH', `/api/tokens/${first.id}/complete`)).status).toBe(200);
    expect((await api('POST', `/api/slots/${smith.slotId}/call-next`)).body.token.id).toBe(third.id);
    await page.waitForFunction(
      ({ slotId, label }) => document.querySelector(`[data-slot-id="${slotId}"] [data-role=now]`)?.textContent === label,
      { slotId: smith.slotId, label: shown(third) },
      { timeout: 10_000 },
    );
    expect(await page.evaluate(() => (window as any).opdDisplay.announcements.map((a: any) => a.text))).toEqual([
      `Token ${spoken(third)}, Doctor Smith`,
    ]);
    // #1 moved to "Called before".
    await smithCard.locator('.chip.old', { hasText: shown(first) }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('the token page follows the token live (check-in, call) without showing the name', async () => {
    const branchId = `branch-t-${Date.now().toString(36)}`;
    const doctor = await doctorWithSlot(branchId, 'Dr. Rao', 'ENT', 10);
    await book(doctor.slotId, 'Early Emergency', 'EMERGENCY'); // served first, already at the desk
    const token = await book(doctor.slotId, 'Online Person', 'ONLINE');
    const context = await browser.newContext({ viewport: { width: 420, height: 800 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${system.edgeUrl}/t/${token.id}`);
    await expect(page.locator('#number').textContent()).resolves.toBe(shown(token));
    await expect(page.locator('#status').textContent()).resolves.toBe('Booked');
    await page.waitForFunction(() => document.querySelector('#live')?.textContent === 'Updates live');

    expect((await api('PATCH', `/api/tokens/${token.id}/check-in`)).status).toBe(200);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'Checked in, waiting', undefined, { timeout: 10_000 });
    await expect(page.locator('#detail').textContent()).resolves.toContain('1 ahead of you');

    expect((await api('POST', `/api/slots/${doctor.slotId}/call-next`)).status).toBe(200); // the emergency
    await page.waitForFunction(() => document.querySelector('#detail')?.textContent === 'You are next.', undefined, { timeout: 10_000 });
    expect((await api('POST', `/api/slots/${doctor.slotId}/call-next`)).body.token.id).toBe(token.id);
    await page.waitForFunction(() => document.querySelector('#status')?.textContent === 'It is your turn', undefined, { timeout: 10_000 });
    expect(await page.evaluate(() => document.body.innerText)).not.toContain('Online Person');
    expect(errors).toEqual([]);
    await context.close();
  });
});
