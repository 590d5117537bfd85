//! Reports as an office forwards them: CSV (UTF-8 with a byte-order mark, so a spreadsheet reads
//! the Chinese) and XLSX workbooks (`rust_xlsxwriter`) with Chinese column headings, the period
//! and the time they were made in the rows above the table, numbers as numbers and rates as
//! percentages. One `Table` per report; a workbook has a sheet per table.

use super::{OverdueReport, Ranking, Report};
use crate::domain::figures::{Figure, GroupBy, Kind};
use chrono::NaiveDate;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

/// The media type of a workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of a CSV file, as written here.
pub const CSV: &str = "text/csv; charset=utf-8";

/// A cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share 0–1, written as a percentage; `None` (no denominator) as "—".
    Rate(Option<f64>),
    /// A number with two decimals; `None` as "—".
    Number(Option<f64>),
}

/// A titled table: its sheet's name, the lines above it, its column headings and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub sheet: String,
    pub title: String,
    pub notes: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The rows above every table: what it is, its period, and when it was made.
fn notes(from: NaiveDate, to: NaiveDate, generated_at: &str) -> Vec<String> {
    let last = to.pred_opt().unwrap_or(to);
    vec![
        format!("统计期间：{from} 至 {last}（含）"),
        format!("生成时间：{generated_at}"),
    ]
}

fn dimension(by: GroupBy) -> (&'static str, &'static str) {
    match by {
        GroupBy::Department => ("按单位", "单位"),
        GroupBy::Category => ("按诉求类型", "诉求类型"),
        GroupBy::Channel => ("按受理渠道", "受理渠道"),
    }
}

/// The columns of a figure: its value, and for a ratio its numerator and denominator.
fn figure_columns(f: Figure) -> Vec<String> {
    let mut out = vec![f.label().to_string()];
    if let Some((n, d)) = f.parts() {
        out.push(n.to_string());
        out.push(d.to_string());
    }
    out
}

fn figure_cells(f: Figure, m: &crate::domain::figures::Measure) -> Vec<Cell> {
    match m.kind {
        Kind::Count => vec![Cell::Int(m.numerator as i64)],
        Kind::Rate => vec![
            Cell::Rate(m.value),
            Cell::Int(m.numerator as i64),
            Cell::Int(m.denominator.unwrap_or(0)),
        ],
        Kind::Mean => {
            let mut cells = vec![Cell::Number(m.value)];
            if f.parts().is_some() {
                cells.push(Cell::Number(Some(m.numerator)));
                cells.push(Cell::Int(m.denominator.unwrap_or(0)));
            }
            cells
        }
    }
}

/// The figures of a report, a row per group and the total last.
pub fn kpi_table(report: &Report) -> Table {
    let (sheet, what) = dimension(report.group_by);
    let mut columns = vec![what.to_string()];
    for f in Figure::ALL {
        columns.extend(figure_columns(*f));
    }
    let rows = report
        .groups
        .iter()
        .chain(std::iter::once(&report.total))
        .map(|r| {
            let mut cells = vec![Cell::Text(r.name.clone())];
            for f in Figure::ALL {
                cells.extend(figure_cells(*f, &r.figures[f]));
            }
            cells
        })
        .collect();
    let mut notes = notes(report.from, report.to, &report.generated_at);
    notes.push(format!("超期未办结统计时点：{}", report.overdue_at));
    Table {
        sheet: sheet.to_string(),
        title: format!("企业诉求办理指标（{sheet}）"),
        notes,
        columns,
        rows,
    }
}

/// The ranking: ranked departments, then those listed apart.
pub fn ranking_table(ranking: &Ranking) -> Table {
    let weighted: Vec<Figure> = ranking.weights.keys().copied().collect();
    let mut columns: Vec<String> = ["排名", "单位", "得分", "总工单数", "榜单"]
        .map(String::from)
        .to_vec();
    for f in &weighted {
        columns.extend(figure_columns(*f));
    }
    let mut rows: Vec<Vec<Cell>> = ranking
        .ranked
        .iter()
        .map(|r| {
            let board = if ranking.red.contains(&r.key) {
                "红榜"
            } else if ranking.black.contains(&r.key) {
                "黑榜"
            } else {
                ""
            };
            let mut cells = vec![
                Cell::Int(r.rank as i64),
                Cell::Text(r.name.clone()),
                Cell::Number(Some(r.score)),
                Cell::Int(r.cases),
                Cell::Text(board.to_string()),
            ];
            for f in &weighted {
                cells.extend(figure_cells(*f, &r.figures[f]));
            }
            cells
        })
        .collect();
    for u in &ranking.unranked {
        let mut cells = vec![
            Cell::Text("不参与排名".into()),
            Cell::Text(u.name.clone()),
            Cell::Number(None),
            Cell::Int(u.cases),
            Cell::Text(String::new()),
        ];
        for f in &weighted {
            cells.extend(figure_columns(*f).iter().map(|_| Cell::Text(String::new())));
        }
        rows.push(cells);
    }
    Table {
        sheet: "排名".into(),
        title: "承办单位考核排名".into(),
        notes: notes(ranking.from, ranking.to, &ranking.generated_at),
        columns,
        rows,
    }
}

/// The cases overdue at a moment.
pub fn overdue_table(report: &OverdueReport) -> Table {
    let columns = [
        "工单编号",
        "诉求事项",
        "企业",
        "诉求类型",
        "状态",
        "责任单位",
        "期限",
        "到期时间",
        "超期工作日",
        "升级层级",
    ]
    .map(String::from)
    .to_vec();
    let rows = report
        .items
        .iter()
        .map(|o| {
            vec![
                Cell::Text(o.number.clone()),
                Cell::Text(o.subject.clone()),
                Cell::Text(o.enterprise.clone()),
                Cell::Text(label(&o.category, crate::domain::words::category)),
                Cell::Text(label(&o.state, crate::domain::words::state)),
                Cell::Text(o.unit_name.clone()),
                Cell::Text(label(&o.timer, crate::domain::words::timer_kind)),
                Cell::Text(o.due_at.clone()),
                Cell::Number(Some(o.overdue_wd)),
                Cell::Int(o.level as i64),
            ]
        })
        .collect();
    let mut notes = vec![
        format!("统计时点：{}", report.at),
        format!("生成时间：{}", report.generated_at),
        format!("超期未办结工单：{} 件", report.total),
    ];
    if report.truncated {
        notes.push(format!("仅列出前 {} 条", super::OVERDUE_SHOWN));
    }
    Table {
        sheet: "超期未办结".into(),
        title: "超期未办结工单".into(),
        notes,
        columns,
        rows,
    }
}

/// A stored name in Chinese, or as it is when it is none of the known ones.
fn label<T: std::str::FromStr>(name: &str, word: impl Fn(T) -> &'static str) -> String {
    name.parse().map(word).unwrap_or(name).to_string()
}

/// A rate as a person reads it: one decimal of a percentage.
fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The table as CSV: a byte-order mark, the title and notes, a blank line, headings, rows.
pub fn csv(table: &Table) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from("\u{feff}");
    for line in std::iter::once(&table.title).chain(&table.notes) {
        out.push_str(&field(line));
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let line = |cells: Vec<String>| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    out.push_str(&line(table.columns.clone()));
    out.push_str("\r\n");
    for row in &table.rows {
        let cells = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => s.clone(),
                Cell::Int(n) => n.to_string(),
                Cell::Rate(Some(x)) => percent(*x),
                Cell::Number(Some(x)) => format!("{x:.2}"),
                Cell::Rate(None) | Cell::Number(None) => "—".into(),
            })
            .collect();
        out.push_str(&line(cells));
        out.push_str("\r\n");
    }
    out
}

/// The row the column headings are on (after the title, the notes and a blank row).
pub fn heading_row(table: &Table) -> u32 {
    table.notes.len() as u32 + 2
}

/// The tables as a workbook, a sheet each.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let heading = Format::new()
        .set_bold()
        .set_background_color("DCE6F1")
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let rate = Format::new().set_num_format("0.0%");
    let number = Format::new().set_num_format("0.00");
    let none = Format::new().set_align(FormatAlign::Center);
    for table in tables {
        let sheet = workbook.add_worksheet();
        sheet.set_name(&table.sheet)?;
        sheet.write_string_with_format(0, 0, &table.title, &title)?;
        for (i, note) in table.notes.iter().enumerate() {
            sheet.write_string(1 + i as u32, 0, note)?;
        }
        let top = heading_row(table);
        for (c, name) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(top, c as u16, name, &heading)?;
            sheet.set_column_width(c as u16, if c == 0 { 22 } else { 12 })?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = top + 1 + r as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => sheet.write_string(r, c, s)?,
                    Cell::Int(n) => sheet.write_number(r, c, *n as f64)?,
                    Cell::Rate(Some(x)) => sheet.write_number_with_format(r, c, *x, &rate)?,
                    Cell::Number(Some(x)) => sheet.write_number_with_format(r, c, *x, &number)?,
                    Cell::Rate(None) | Cell::Number(None) => {
                        sheet.write_string_with_format(r, c, "—", &none)?
                    }
                };
            }
        }
        sheet.set_freeze_panes(top + 1, 1)?;
    }
    workbook.save_to_buffer()
}
