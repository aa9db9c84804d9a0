// The upload page in a real browser (Debian's Chromium, headless, driven by
// playwright-core) against a dicomd with auth-jwt: the page loads without a
// token, an upload before signing in is refused, "Sign in" with a pasted
// token sets the cookie, and the form then uploads a DICOM file and shows
// the server's answer. Run by tests/auth/browser_page_test.cpp:
//   node upload_page_auth.mjs PORT TOKEN DICOM_FILE
// Prints one line per step; exits 0 when every step held, 1 otherwise.
import { chromium } from "playwright-core";

const [port, token, dicomFile] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

function check(condition, what) {
  console.log(`${condition ? "ok" : "FAILED"}: ${what}`);
  if (!condition) throw Object.assign(new Error(what), { reported: true });
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"], timeout: 30000 });
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);

  const first = await page.goto(base + "/");
  check(first.status() === 200, "the page loads without a token");

  // Uploading before signing in: the server refuses, the browser shows why.
  await page.fill("input[name=study]", "browser");
  await page.setInputFiles("input[name=files]", dicomFile);
  let answer = await Promise.all([page.waitForNavigation(), page.click("form[action='/upload'] button")]);
  check(answer[0].status() === 401, `an upload before signing in is refused (${answer[0].status()})`);

  await page.goto(base + "/");
  await page.click("#signin summary");
  await page.fill("#login textarea[name=token]", token);
  await page.click("#login button[type=submit]");
  await page.waitForFunction(() => document.getElementById("who").textContent.length > 0);
  const who = await page.textContent("#who");
  check(who.startsWith("signed in as"), `signing in says so ("${who}")`);
  const cookies = await page.context().cookies(base);
  const cookie = cookies.find((c) => c.name === "dicomd_token");
  check(cookie && cookie.httpOnly && cookie.sameSite === "Strict", "the cookie is HttpOnly and SameSite=Strict");

  await page.fill("input[name=study]", "browser");
  await page.setInputFiles("input[name=files]", dicomFile);
  answer = await Promise.all([page.waitForNavigation(), page.click("form[action='/upload'] button")]);
  const body = await page.textContent("body");
  check(answer[0].status() === 201, `the upload after signing in is stored (${answer[0].status()})`);
  check(body.includes('"storedFiles":1'), `the browser shows the server's answer (${body.slice(0, 120)})`);

  const list = await page.goto(base + "/files/browser");
  check(list.status() === 200 && (await page.textContent("body")).includes(dicomFile.split("/").pop()),
        "the study lists the file, read with the cookie");

  await page.goto(base + "/");
  await page.click("#signin summary");
  await page.click("#logout");
  await page.waitForFunction(() => document.getElementById("who").textContent === "signed out");
  const after = await page.goto(base + "/files/browser");
  check(after.status() === 401, "after signing out the files are refused again");
} catch (e) {
  if (!e.reported) console.log(`FAILED: ${e.message.split("\n")[0]}`);
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log("all steps held");
