// npm's dicomweb-client inside a page in Debian's Chromium (playwright-core),
// against dicomd's DICOMweb from another origin: search, metadata, frames,
// rendered and STOW, each checked on what the client hands back. Run by
// tests/dicomweb/dicomweb_browser_test.cpp:
//   DICOMD_PORT=... CT_FILE=... STOW_FILE=... node --test dicomweb_client.test.mjs
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serveStatic } from "./serve_static.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dicomweb = `http://127.0.0.1:${process.env.DICOMD_PORT}/dicom-web`;
const CT = { study: "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322", series: "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322",
             instance: "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322" };
let browser, site, page;

before(async () => {
  const stow = await readFile(process.env.STOW_FILE);
  site = await serveStatic(join(here, "node_modules", "dicomweb-client", "build"), {
    overrides: {
      "/index.html": "<!doctype html><meta charset=utf-8><title>dicomweb-client</title><script src=/dicomweb-client.js></script>",
      "/stow.dcm": stow,
    },
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${site.port}/index.html`);
  await page.waitForFunction(() => window.DICOMwebClient !== undefined);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

// Runs `body` in the page with a client of dicomd's DICOMweb.
function inPage(body, arg) {
  return page.evaluate(
    async ({ url, source, arg }) => {
      const client = new window.DICOMwebClient.api.DICOMwebClient({ url });
      return new Function("client", "arg", `return (async () => { ${source} })();`)(client, arg);
    },
    { url: dicomweb, source: body, arg });
}

test("searchForStudies finds the uploaded CT with its attributes", async () => {
  const studies = await inPage(`return await client.searchForStudies({ queryParams: { PatientID: "1CT1" } });`);
  assert.equal(studies.length, 1);
  assert.equal(studies[0]["0020000D"].Value[0], CT.study);
  assert.equal(studies[0]["00100010"].Value[0].Alphabetic, "CompressedSamples^CT1");
  assert.equal(studies[0]["00201208"].Value[0], 1);
});

test("retrieveSeriesMetadata gives the DICOM JSON model", async () => {
  const metadata = await inPage(`return await client.retrieveSeriesMetadata(arg);`,
                                { studyInstanceUID: CT.study, seriesInstanceUID: CT.series });
  assert.equal(metadata.length, 1);
  assert.equal(metadata[0]["00280010"].Value[0], 128);
  assert.equal(metadata[0]["00080018"].Value[0], CT.instance);
  assert.match(metadata[0]["7FE00010"].BulkDataURI, /\/bulk\/7FE00010$/);
});

test("retrieveInstanceFrames gives the frame's bytes", async () => {
  const sizes = await inPage(
    `const frames = await client.retrieveInstanceFrames({ ...arg, frameNumbers: [1] });
     return frames.map((f) => f.byteLength);`,
    { studyInstanceUID: CT.study, seriesInstanceUID: CT.series, sopInstanceUID: CT.instance });
  assert.deepEqual(sizes, [128 * 128 * 2]);
});

test("retrieveInstanceRendered gives a PNG and a JPEG", async () => {
  const magic = await inPage(
    `// The client hands an image back as a list of one ArrayBuffer.
     const bytes = (answer) => new Uint8Array(Array.isArray(answer) ? answer[0] : answer);
     const png = bytes(await client.retrieveInstanceRendered({ ...arg, mediaTypes: [{ mediaType: "image/png" }] }));
     const jpeg = bytes(await client.retrieveInstanceRendered({ ...arg, mediaTypes: [{ mediaType: "image/jpeg" }] }));
     return [Array.from(png.slice(0, 4)), Array.from(jpeg.slice(0, 3))];`,
    { studyInstanceUID: CT.study, seriesInstanceUID: CT.series, sopInstanceUID: CT.instance });
  assert.deepEqual(magic[0], [0x89, 0x50, 0x4e, 0x47]);
  assert.deepEqual(magic[1], [0xff, 0xd8, 0xff]);
});

test("storeInstances stores, and a search finds what it stored", async () => {
  const found = await inPage(
    `const bytes = await (await fetch("/stow.dcm")).arrayBuffer();
     await client.storeInstances({ datasets: [bytes] });
     return await client.searchForInstances({ queryParams: { Modality: "MR" } });`);
  assert.equal(found.length, 1);
  assert.equal(found[0]["00080060"].Value[0], "MR");
});
