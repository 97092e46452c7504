// The URL pattern syntax (PostgreSQL's ~ on the same strings is exercised by customer-data's
// `visited` rule tests; these check the regex itself with JavaScript's engine, which agrees on it).
import { describe, expect, it } from "vitest";
import { likeEscape, urlPatternRegex } from "../src/text-match.ts";

const matches = (pattern: string, url: string) => new RegExp(urlPatternRegex(pattern)).test(url);

describe("urlPatternRegex", () => {
  it("ignores scheme, host, query and fragment; a trailing slash is optional", () => {
    expect(matches("/pricing", "https://shop.example.ng/pricing")).toBe(true);
    expect(matches("/pricing", "https://shop.example.ng/pricing/?utm_source=x")).toBe(true);
    expect(matches("/pricing", "/pricing#plans")).toBe(true);
    expect(matches("https://other.test/pricing", "https://shop.example.ng/pricing")).toBe(true);
    expect(matches("/pricing", "https://shop.example.ng/pricing-old")).toBe(false);
    expect(matches("/pricing", "https://shop.example.ng/en/pricing")).toBe(false);
  });
  it("* matches any run within the path, never the query", () => {
    expect(matches("/blog/*", "https://x.test/blog/2026/black-friday")).toBe(true);
    expect(matches("/products/*/reviews", "https://x.test/products/abc-1/reviews")).toBe(true);
    expect(matches("/products/*/reviews", "https://x.test/products/abc-1/specs")).toBe(false);
    expect(matches("/checkout*", "https://x.test/checkout/complete?order=1")).toBe(true);
    expect(matches("/a*b", "https://x.test/a?x=b")).toBe(false);
  });
  it("regex characters in the pattern are literal", () => {
    expect(matches("/c++/(new)", "https://x.test/c++/(new)")).toBe(true);
    expect(matches("/a.b", "https://x.test/axb")).toBe(false);
  });
});

describe("likeEscape", () => {
  it("makes %, _ and backslash literal", () => {
    expect(likeEscape("50%_off\\now")).toBe("50\\%\\_off\\\\now");
  });
});
