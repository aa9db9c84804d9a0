// Validates an OpenAPI document against the official schema of its version
// (npm @seriousme/openapi-schema-validator). Usage: node validate_openapi.mjs FILE
// Prints "valid <version>" and exits 0, or prints the errors and exits 1.
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
const validator = new Validator();
const result = await validator.validate(file);
if (result.valid) {
  console.log(`valid ${validator.version}`);
  process.exit(0);
}
console.log(JSON.stringify(result.errors, null, 2));
process.exit(1);
