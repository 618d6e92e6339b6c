//! Plain text or Markdown → Atlassian Document Format (ADF), the JSON document Jira
//! Cloud's REST v3 takes for descriptions and comments; and ADF → plain text so
//! results stay readable to an agent.
//!
//! Covers headings, paragraphs, bullet and numbered lists, code blocks, block quotes,
//! rules, hard breaks, and bold, italic, strike-through, inline code and links.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde_json::{json, Map, Value};

/// An open node: its ADF type, attributes, children, and whether it was opened
/// implicitly (tight list items hold text with no paragraph around it).
struct Open {
    node: Map<String, Value>,
    content: Vec<Value>,
    implicit: bool,
}

impl Open {
    fn new(kind: &str, attrs: Option<Value>) -> Self {
        let mut node = Map::new();
        node.insert("type".into(), json!(kind));
        if let Some(a) = attrs {
            node.insert("attrs".into(), a);
        }
        Open {
            node,
            content: Vec::new(),
            implicit: false,
        }
    }
    fn kind(&self) -> &str {
        self.node.get("type").and_then(Value::as_str).unwrap_or("")
    }
    fn finish(mut self) -> Value {
        self.node
            .insert("content".into(), Value::Array(self.content));
        Value::Object(self.node)
    }
}

/// Nodes that take block children; inline content inside them gets a paragraph.
fn is_container(kind: &str) -> bool {
    matches!(kind, "doc" | "listItem" | "blockquote")
}

struct Builder {
    stack: Vec<Open>,
    marks: Vec<Value>,
}

impl Builder {
    fn top(&mut self) -> &mut Open {
        // The doc node is pushed first and never popped before `finish`.
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn close_implicit(&mut self) {
        if self.stack.last().is_some_and(|o| o.implicit) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if self.stack.len() > 1 {
            if let Some(open) = self.stack.pop() {
                let done = open.finish();
                self.top().content.push(done);
            }
        }
    }

    fn open_block(&mut self, open: Open) {
        self.close_implicit();
        self.stack.push(open);
    }

    fn inline(&mut self, node: Value) {
        if is_container(self.top().kind()) {
            let mut p = Open::new("paragraph", None);
            p.implicit = true;
            self.stack.push(p);
        }
        self.top().content.push(node);
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.top().kind() == "codeBlock" {
            self.top()
                .content
                .push(json!({"type": "text", "text": text}));
            return;
        }
        let mut node = json!({"type": "text", "text": text});
        if !self.marks.is_empty() {
            node["marks"] = Value::Array(self.marks.clone());
        }
        self.inline(node);
    }
}

fn level(h: HeadingLevel) -> u8 {
    match h {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Converts Markdown (plain text is Markdown too) to an ADF `doc`.
pub fn markdown_to_adf(markdown: &str) -> Value {
    let mut b = Builder {
        stack: vec![Open::new("doc", None)],
        marks: Vec::new(),
    };
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => b.open_block(Open::new("paragraph", None)),
                Tag::Heading { level: l, .. } => {
                    b.open_block(Open::new("heading", Some(json!({"level": level(l)}))))
                }
                Tag::BlockQuote(_) => b.open_block(Open::new("blockquote", None)),
                Tag::CodeBlock(kind) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(l) if !l.trim().is_empty() => {
                            Some(json!({"language": l.trim()}))
                        }
                        _ => None,
                    };
                    b.open_block(Open::new("codeBlock", lang))
                }
                Tag::List(Some(start)) => {
                    b.open_block(Open::new("orderedList", Some(json!({"order": start}))))
                }
                Tag::List(None) => b.open_block(Open::new("bulletList", None)),
                Tag::Item => b.open_block(Open::new("listItem", None)),
                Tag::Emphasis => b.marks.push(json!({"type": "em"})),
                Tag::Strong => b.marks.push(json!({"type": "strong"})),
                Tag::Strikethrough => b.marks.push(json!({"type": "strike"})),
                Tag::Link { dest_url, .. } => b
                    .marks
                    .push(json!({"type": "link", "attrs": {"href": dest_url.to_string()}})),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_)
                | TagEnd::List(_)
                | TagEnd::Item => {
                    b.close_implicit();
                    b.pop();
                }
                TagEnd::CodeBlock => {
                    // Drop the newline that ends a fenced block's last line.
                    if let Some(Value::Object(last)) = b.top().content.last_mut() {
                        if let Some(Value::String(t)) = last.get_mut("text") {
                            while t.ends_with('\n') {
                                t.pop();
                            }
                        }
                    }
                    b.pop();
                }
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link => {
                    b.marks.pop();
                }
                _ => {}
            },
            Event::Text(t) => b.text(&t),
            Event::Code(t) => {
                let mut marks = b.marks.clone();
                marks.push(json!({"type": "code"}));
                b.inline(json!({"type": "text", "text": t.to_string(), "marks": marks}));
            }
            Event::SoftBreak => b.text(" "),
            Event::HardBreak => b.inline(json!({"type": "hardBreak"})),
            Event::Rule => {
                b.close_implicit();
                b.top().content.push(json!({"type": "rule"}));
            }
            Event::Html(t) | Event::InlineHtml(t) => b.text(&t),
            _ => {}
        }
    }
    while b.stack.len() > 1 {
        b.pop();
    }
    let doc = b.stack.pop().map(Open::finish).unwrap_or(Value::Null);
    let mut doc = doc;
    doc["version"] = json!(1);
    doc
}

/// The text of an ADF document: blocks on their own lines, list items with a dash.
pub fn adf_to_text(adf: &Value) -> String {
    let mut out = String::new();
    walk(adf, &mut out);
    out.trim().to_string()
}

fn walk(node: &Value, out: &mut String) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or("")),
        "hardBreak" => out.push('\n'),
        "rule" => out.push_str("\n---\n"),
        "mention" => out.push_str(node["attrs"]["text"].as_str().unwrap_or("@someone")),
        _ => {
            if kind == "listItem" {
                out.push_str("- ");
            }
            if let Some(children) = node.get("content").and_then(Value::as_array) {
                for c in children {
                    walk(c, out);
                }
            }
            if matches!(
                kind,
                "paragraph" | "heading" | "codeBlock" | "blockquote" | "bulletList" | "orderedList"
            ) && !out.ends_with('\n')
            {
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_one_paragraph() {
        assert_eq!(
            markdown_to_adf("Hello world"),
            json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Hello world"}]}
            ]})
        );
    }

    #[test]
    fn markdown_blocks_and_marks() {
        let md = "# Title\n\nSome **bold**, *italic*, `code` and a [link](https://example.com).\n\n- one\n- two\n\n3. three\n4. four\n\n```rust\nfn main() {}\n```\n";
        let adf = markdown_to_adf(md);
        let c = adf["content"].as_array().unwrap();
        assert_eq!(
            c[0],
            json!({"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title"}]})
        );
        let para = &c[1]["content"];
        assert_eq!(
            para[1],
            json!({"type": "text", "text": "bold", "marks": [{"type": "strong"}]})
        );
        assert_eq!(
            para[3],
            json!({"type": "text", "text": "italic", "marks": [{"type": "em"}]})
        );
        assert_eq!(
            para[5],
            json!({"type": "text", "text": "code", "marks": [{"type": "code"}]})
        );
        assert_eq!(
            para[7]["marks"],
            json!([{"type": "link", "attrs": {"href": "https://example.com"}}])
        );
        assert_eq!(c[2]["type"], "bulletList");
        assert_eq!(
            c[2]["content"][0],
            json!({"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]})
        );
        assert_eq!(c[3]["type"], "orderedList");
        assert_eq!(c[3]["attrs"]["order"], 3);
        assert_eq!(
            c[4],
            json!({"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn main() {}"}]})
        );
        assert_eq!(adf_to_text(&adf).lines().next(), Some("Title"));
        assert!(adf_to_text(&adf).contains("- one"));
    }

    #[test]
    fn nested_lists_stay_inside_their_item() {
        let adf = markdown_to_adf("- a\n  - b\n");
        let item = &adf["content"][0]["content"][0];
        assert_eq!(item["content"][0]["type"], "paragraph");
        assert_eq!(item["content"][1]["type"], "bulletList");
    }

    #[test]
    fn empty_input_is_an_empty_doc() {
        assert_eq!(
            markdown_to_adf(""),
            json!({"type": "doc", "version": 1, "content": []})
        );
    }
}
