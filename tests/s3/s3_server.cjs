// A local S3 server for the tests: @20minutes/s3rver on 127.0.0.1, objects
// in --dir, one bucket (--bucket), one key pair read from --access-key-file
// and --secret-key-file (besides s3rver's own). It checks Signature V4: a
// wrong secret is answered 403. Prints "listening <port>" once it serves,
// and stops on SIGTERM or when stdin closes (its test ended; not with
// --detached yes).
"use strict";
const fs = require("fs");
const S3rver = require("@20minutes/s3rver");
const { DUMMY_ACCOUNT } = require("@20minutes/s3rver/lib/models/account");
const FilesystemStore = require("@20minutes/s3rver/lib/stores/filesystem");

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];

// A PUT commits whole or not at all, as on S3: s3rver writes an object's
// bytes straight into its file, so a client cut mid-body (or killed) left
// a truncated object. Here they go to a temporary file first, renamed into
// place once complete (its name does not end in s3rver's object suffix,
// so it is never listed).
// (--torn-puts yes keeps s3rver's own behaviour, for the test of how
// dicomd cleans up after a store that keeps torn writes.)
let temporaries = 0;
const putContent = FilesystemStore.prototype.putContent;
if (args["torn-puts"] !== "yes") FilesystemStore.prototype.putContent = async function (objectPath, content) {
  const temporary = `${objectPath}.dicomd-partial-${process.pid}-${temporaries++}`;
  try {
    const result = await putContent.call(this, temporary, content);
    await fs.promises.rename(temporary, objectPath);
    return result;
  } catch (error) {
    await fs.promises.rm(temporary, { force: true });
    throw error;
  }
};


for (const required of ["dir", "bucket", "access-key-file", "secret-key-file"]) {
  if (!args[required]) {
    console.error(`s3_server: --${required} is required`);
    process.exit(2);
  }
}
const key = (name) => fs.readFileSync(args[name], "utf8").split("\n")[0].trim();
DUMMY_ACCOUNT.createKeyPair(key("access-key-file"), key("secret-key-file"));

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(args.port || 0),
  silent: true,
  directory: args.dir,
  configureBuckets: args.bucket === "-" ? [] : [{ name: args.bucket }],
});
server.run().then((address) => {
  process.stdout.write(`listening ${address.port}\n`);
});
const stop = () => server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
if (args.detached !== "yes") {  // (a benchmark script ends it by its PID instead)
  process.stdin.on("end", stop);
  process.stdin.resume();
}
