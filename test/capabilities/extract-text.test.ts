import { describe, expect, it } from "vitest";
import { extractTextCapability } from "../../runtime/capabilities/builtin/extract-text.ts";
import { htmlToText } from "../../runtime/capabilities/builtin/html-text.ts";
import { decodeEntities } from "../../runtime/capabilities/builtin/entities.ts";
import { capabilityContext } from "./helpers.ts";

describe("extract_text", () => {
  it("gives the readable text with paragraph breaks, and the title", async () => {
    const html = `<!DOCTYPE html>
      <html><head><meta charset="utf-8"><title> Caf&eacute; &amp; Co </title>
      <style>body { color: red }</style><script>var x = "<p>not text</p>";</script></head>
      <body>
        <h1>Our   menu</h1>
        <p>Coffee is <b>good</b> for <a href="/x?a=1&b=2" title="a > b">you</a>.</p>
        <noscript>Enable JavaScript</noscript>
        <ul><li>Espresso</li><li>Latte &ndash; 3&euro;</li></ul>
        <p>Line one<br>Line two</p>
        <!-- a comment <p>hidden</p> -->
      </body></html>`;
    const out = await extractTextCapability().execute({ html }, capabilityContext());
    expect(out.title).toBe("Café & Co");
    expect(out.text).toBe("Our menu\n\nCoffee is good for you.\n\nEspresso\n\nLatte – 3€\n\nLine one\nLine two");
  });

  it("drops script, style and noscript content wherever they are", () => {
    const { text } = htmlToText("<p>a</p><script type='x'>alert('<b>')</script><p>b</p><STYLE>p{}</STYLE><noscript><p>c</p></noscript><p>d</p>");
    expect(text).toBe("a\n\nb\n\nd");
  });

  it("keeps preformatted lines", () => {
    expect(htmlToText("<pre>x = 1\ny = 2</pre><p>after</p>").text).toBe("x = 1\ny = 2\n\nafter");
  });

  it("copes with broken markup: stray <, unclosed tags, an unclosed script", () => {
    expect(htmlToText("1 < 2 and 3 > 2 <p>ok").text).toBe("1 < 2 and 3 > 2\n\nok");
    expect(htmlToText("<div>kept<svg/>too</div>").text).toBe("kepttoo");
    expect(htmlToText("<p>before</p><script>never closed <p>x</p>").text).toBe("before");
    expect(htmlToText("<p>text without a title</p>").title).toBe("");
  });

  it("reads the title of a head that is not closed before the body", () => {
    expect(htmlToText("<html><head><title>T</title><body><p>Body</p></body>")).toEqual({ title: "T", text: "Body" });
  });

  it("stays linear on hostile input", () => {
    const hostile = "<svg>".repeat(20_000) + "<a title='".repeat(5_000) + "<".repeat(50_000);
    const started = Date.now();
    htmlToText(hostile);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe("character references", () => {
  it("decodes named, decimal and hex references; leaves unknown ones", () => {
    expect(decodeEntities("&lt;a&gt; &quot;x&quot; &#39;y&#39; &#x1F600; &copy; &nbsp;|&unknown; & plain")).toBe("<a> \"x\" 'y' 😀 © \u00a0|&unknown; & plain");
  });

  it("maps invalid code points to U+FFFD and Windows-1252 ones as browsers do", () => {
    expect(decodeEntities("&#0;&#xD800;&#1114112;&#150;")).toBe("\uFFFD\uFFFD\uFFFD\u2013");
  });
});
