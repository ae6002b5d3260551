//! Milliseconds and kilobytes per PDF letter, on one core, for the example's Russian letter and
//! an Arabic letter (shaped, right to left).
//!
//! Run with `cargo bench --bench pdf`. Layout and PDF writing are timed per letter; the font
//! subsetting done once per batch is timed separately.

use std::time::Instant;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let root = env!("CARGO_MANIFEST_DIR");
    bench("ru", std::path::Path::new(root), "ombudsman")?;
    let arabic = arabic_campaign()?;
    bench("ar", arabic.path(), "official")
}

/// An Arabic letter of some 120 words (a paragraph of the Arabic test letter, three times).
fn arabic_campaign() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let paragraph = "أكتب إليكم بشأن قضية المحامي أحمد سعيد الذي اعتقل في 12 مارس 2024 بسبب \
        عمله في الدفاع عن حقوق الإنسان. نطالب بالإفراج الفوري عنه وإسقاط جميع التهم الموجهة \
        إليه، كما تقول منظمة Amnesty International في تقريرها. لا يجوز احتجاز أي شخص بسبب \
        آرائه السلمية.";
    let files = [
        (
            "recipients.toml",
            "[[recipient]]\nid = \"official\"\nname = \"وزير العدل\"\ntitle = \"وزارة العدل\"\n\
             address = [\"شارع الجمهورية 12\", \"القاهرة 11511\", \"مصر\"]\nlanguage = \"ar\"\n"
                .to_string(),
        ),
        (
            "letters/ar/campaign.toml",
            "title = \"T\"\nlanguage = \"ar\"\nreference = \"EG-1\"\n[subject]\nar = \"بشأن قضية \
             المحامي أحمد سعيد\"\n[salutation]\nar = \"السيد الوزير المحترم،\"\n[closing]\nar = \"مع \
             فائق الاحترام،\"\n"
                .to_string(),
        ),
        ("letters/ar/letter.md.hbs", format!("{paragraph}\n\n{paragraph}\n\n{paragraph}\n")),
        (
            "appeal.toml",
            "[sender]\nname = \"Alex Sample\"\ncity = \"London\"\nemail = \"alex@example.org\"\n\
             address = [\"1 Test Street\", \"London\"]\n"
                .to_string(),
        ),
    ];
    for (rel, text) in files {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap_or(dir.path()))?;
        std::fs::write(path, text)?;
    }
    Ok(dir)
}

fn bench(name: &str, root: &std::path::Path, only: &str) -> anyhow::Result<()> {
    let root = root.to_string_lossy();
    let cli = appeal::cli::Cli::parse_from(["appeal", "-C", &root, "pdf", "--only", only]);
    let config = match appeal::config::load(&cli.common()) {
        Ok(c) => c,
        Err(p) => anyhow::bail!(
            "the {name} campaign does not load: {} problems",
            p.items.len()
        ),
    };
    let mut problems = appeal::diag::Problems::default();
    let mut letters = Vec::new();
    appeal::letter::run::for_each_chunk(&config, &mut problems, |chunk| {
        letters.extend(chunk);
        Ok(())
    })?;
    let letter = letters
        .first()
        .ok_or_else(|| anyhow::anyhow!("no letter"))?;
    let family = appeal::paper::fonts::Family::bundled()?;

    let start = Instant::now();
    let laid = appeal::paper::layout::layout(letter, config.paper, &family);
    let writer = appeal::paper::writer::Writer::prepare(&family, [&laid], None)?;
    let prepare = start.elapsed();

    let meta = appeal::paper::writer::Meta {
        title: &letter.title,
        author: &letter.sender.name,
        subject: &letter.subject,
        language: &letter.language,
        created: 1_405_332_000,
    };
    let n = 2000;
    let mut bytes = 0;
    // Warm up.
    for _ in 0..50 {
        let laid = appeal::paper::layout::layout(letter, config.paper, &family);
        bytes = writer.write(&laid, &meta)?.len();
    }
    let start = Instant::now();
    let cpu_start = thread_cpu_seconds();
    for _ in 0..n {
        let laid = appeal::paper::layout::layout(letter, config.paper, &family);
        bytes = std::hint::black_box(writer.write(&laid, &meta)?).len();
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let cpu = (thread_cpu_seconds() - cpu_start) * 1000.0 / f64::from(n);
    println!(
        "pdf ({name}): {per:.3} ms wall, {cpu:.3} ms CPU per letter (layout + write, one core), \
         {:.1} KB per letter, {} pages; batch font subsetting once: {:.1} ms",
        bytes as f64 / 1024.0,
        laid.pages.len(),
        prepare.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// This thread's user + system CPU time, from /proc (Linux): unlike wall time it does not
/// count time lost to other processes on a busy machine. 0 where unavailable.
fn thread_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit(')').next() else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
