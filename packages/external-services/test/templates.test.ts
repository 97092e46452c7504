import { describe, expect, it } from "vitest";
import { fieldsOf, render, TemplateSyntaxError } from "../src/templates/render.ts";

describe("merge fields (logic-less)", () => {
  const ada = { first_name: "Ada", city: "Lagos", last_name: "", company: null };
  it("fills fields, case-insensitively, with spaces inside the braces", () => {
    expect(render("Hi {{first_name}} in {{ CITY }}!", ada, { html: false })).toEqual({ text: "Hi Ada in Lagos!", missing: [], defaulted: [] });
  });
  it("a declared default fills an empty or missing field; without one the field is reported", () => {
    const r = render('Hi {{first_name}} {{ last_name | "friend" }} of {{company}} ({{company}})', ada, { html: false });
    expect(r.text).toBe("Hi Ada friend of  ()");
    expect(r.defaulted).toEqual(["last_name"]);
    expect(r.missing).toEqual(["company"]);
  });
  it("HTML-escapes values in an email's HTML part, not in text", () => {
    const v = { first_name: `<script>alert("x")</script> & 'co'` };
    expect(render("<p>Hi {{first_name}}</p>", v, { html: true }).text).toBe("<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>");
    expect(render("Hi {{first_name}}", v, { html: false }).text).toBe(`Hi <script>alert("x")</script> & 'co'`);
  });
  it("runs nothing: sections, triple braces, expressions and stray braces are syntax errors", () => {
    for (const bad of ["{{#vip}}x{{/vip}}", "{{{first_name}}}", "{{ first_name.toUpperCase() }}", "Hi {{first_name}", "{{> partial}}", "{{ a | b }}"]) {
      expect(() => render(bad, ada, { html: false }), bad).toThrow(TemplateSyntaxError);
    }
  });
  it("lists the fields a template uses", () => {
    expect(fieldsOf('{{first_name}} {{city | "your city"}}')).toEqual([
      { field: "first_name", fallback: undefined },
      { field: "city", fallback: "your city" },
    ]);
  });
  it("a value that itself looks like a tag is inserted as text, not rendered again", () => {
    expect(render("Hi {{first_name}}", { first_name: "{{city}}" }, { html: false }).text).toBe("Hi {{city}}");
  });
});
