//! Markdown as the knowledge base shows it: CommonMark (with tables and strikethrough) rendered
//! to HTML that is safe to put on a page. Raw HTML in the text is shown as the text it is, never
//! passed through; a link or image to anything but http(s), mailto or a relative address (a
//! `javascript:` or `data:` URL) keeps its words and loses its target.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// The HTML of `markdown`, with nothing in it a reader's browser would run.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Whether each open link or image was kept, so that its end is kept or dropped with it.
    let mut links: Vec<bool> = vec![];
    let mut images: Vec<bool> = vec![];
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
        // A block of raw HTML reads as a paragraph of its text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Link { ref dest_url, .. }) => {
            let kept = safe_url(dest_url);
            links.push(kept);
            kept.then_some(event)
        }
        Event::End(TagEnd::Link) => links.pop().unwrap_or(false).then_some(event),
        Event::Start(Tag::Image { ref dest_url, .. }) => {
            let kept = safe_url(dest_url);
            images.push(kept);
            kept.then_some(event)
        }
        Event::End(TagEnd::Image) => images.pop().unwrap_or(false).then_some(event),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Plain text (what an enterprise asked, what a department answered) as Markdown that shows it as
/// it was typed: each line a paragraph of its own, and whatever Markdown would read as formatting
/// (emphasis, links, code, HTML, and at the start of a line a heading, quote, list or rule)
/// escaped with a backslash.
pub fn plain(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(literal_line)
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn literal_line(line: &str) -> String {
    // `1.` or `1)` opens an ordered list.
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let mut out = String::with_capacity(line.len() + 8);
    for (i, c) in line.char_indices() {
        let special = matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '&' | '~')
            || (i == 0 && matches!(c, '#' | '>' | '-' | '+' | '=' | '|'))
            || (digits > 0 && i == digits && matches!(c, '.' | ')'));
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// http, https, mailto, or an address without a scheme (relative to this site). A browser drops
/// tabs and line breaks anywhere in a URL and blanks around it, so they are dropped here before
/// the scheme is read; a scheme that is not one of the three, or what only looks like one, is
/// refused.
fn safe_url(url: &str) -> bool {
    let url: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let url = url.trim_matches(|c: char| c <= ' ');
    let Some(colon) = url.find(':') else {
        return true;
    };
    // A colon after the path, query or fragment has begun is no scheme's.
    if url[..colon].contains(['/', '?', '#']) {
        return true;
    }
    let scheme = url[..colon].to_ascii_lowercase();
    matches!(scheme.as_str(), "http" | "https" | "mailto")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html("政策说明<script>alert(1)</script>\n\n<div onclick=\"x()\">块</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;div onclick="), "{html}");
        let img = to_html("<img src=x onerror=alert(2)>");
        assert!(!img.contains("<img"), "{img}");
        assert!(img.contains("&lt;img src=x onerror=alert(2)&gt;"), "{img}");
    }

    #[test]
    fn links_keep_their_words_and_lose_a_script_target() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x]( javascript:alert(1))",
            "[x](javascript&#58;alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "[x](vbscript:msgbox)",
            "<javascript:alert(1)>",
        ] {
            let html = to_html(bad);
            assert!(!html.contains("<a"), "{bad} → {html}");
            assert!(!html.to_lowercase().contains("href"), "{bad} → {html}");
        }
        let kept = to_html("[x](javascript:alert(1)) 与 [政策原文](https://www.gov.cn/a?b=1)");
        assert!(kept.contains("<p>x 与 <a href=\"https://www.gov.cn/a?b=1\">政策原文</a></p>"));
        for good in [
            "[a](http://example.gov.cn)",
            "[a](mailto:zhengce@example.gov.cn)",
            "[a](/knowledge/1)",
            "[a](#办理流程)",
            "[a](附件/申请表.docx)",
            "[a](./x:y)",
            "<https://example.gov.cn>",
        ] {
            assert!(to_html(good).contains("<a href="), "{good}");
        }
    }

    #[test]
    fn images_with_a_script_source_keep_only_their_alt_text() {
        let html = to_html("![示意图](javascript:alert(1)) ![流程](/static/flow.png)");
        assert!(html.contains("示意图"), "{html}");
        assert!(!html.contains("javascript"), "{html}");
        assert!(
            html.contains("<img src=\"/static/flow.png\" alt=\"流程\" />"),
            "{html}"
        );
    }

    #[test]
    fn plain_text_is_shown_as_typed() {
        let typed = "# 不是标题\n  1. 不是列表\n- 也不是\n> 不是引用\n\n**不加粗** [不是链接](https://x) <b>标签</b> a_b_c `代码` ~~删~~ R&amp;D\n---";
        let md = plain(typed);
        let html = to_html(&md);
        for tag in [
            "<h1",
            "<ol",
            "<ul",
            "<blockquote",
            "<strong",
            "<a ",
            "<b>",
            "<em",
            "<code",
            "<del",
            "<hr",
        ] {
            assert!(!html.contains(tag), "{tag} in {html}");
        }
        for line in [
            "<p># 不是标题</p>",
            "<p>1. 不是列表</p>",
            "<p>- 也不是</p>",
            "<p>&gt; 不是引用</p>",
            "<p>**不加粗** [不是链接](https://x) &lt;b&gt;标签&lt;/b&gt; a_b_c `代码` ~~删~~ R&amp;amp;D</p>",
            "<p>---</p>",
        ] {
            assert!(html.contains(line), "{line} not in {html}");
        }
        // Chinese text is left alone, each line a paragraph.
        assert_eq!(
            plain("企业咨询留抵退税。\r\n\r\n  请问如何申请？ "),
            "企业咨询留抵退税。\n\n请问如何申请？"
        );
        assert_eq!(plain(" \n "), "");
    }

    #[test]
    fn markdown_is_rendered() {
        let html = to_html(
            "## 申报条件\n\n- 小微企业\n- **增量**留抵税额\n\n| 项目 | 比例 |\n|---|---|\n| 退税 | 100% |\n",
        );
        assert!(html.contains("<h2>申报条件</h2>"), "{html}");
        assert!(
            html.contains("<li><strong>增量</strong>留抵税额</li>"),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(to_html("a & b < c").contains("a &amp; b &lt; c"));
    }
}
