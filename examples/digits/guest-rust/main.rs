// The digits demo guest (examples/digits/README.md) in Rust: classify 8×8 PGM images, or
// measure accuracy on heldout.bin, through wasi-nn. Built only on witxgen's generated
// bindings (generated/rust/wasi_ephemeral_nn.rs) and Rust's std for WASI (file reads).
//
//   rustc --edition 2021 --target wasm32-wasi -O main.rs -o digits-rust.wasm
//   witxgen run --nn-graph openvino::build/demo/models/digits --dir examples/digits \
//       digits-rust.wasm examples/digits/images/digit-3-2.pgm
//
// Usage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)
//   default model: load_by_name("digits"); --name picks another preloaded name;
//   --model DIR reads DIR/model.xml and DIR/model.bin and calls load (encoding openvino).
// Prints `IMAGE: L (p), L (p), L (p)` (top 3) per image, or `accuracy N/M` for --heldout.
// Exit codes: 0 done, 1 a wasi-nn call failed, 2 bad usage or a bad/unreadable input file.

#[allow(dead_code)] // the bindings cover the whole module; this guest uses part of it
#[rustfmt::skip] // formatting this file must not rewrite the generated one
#[path = "../../../generated/rust/wasi_ephemeral_nn.rs"]
mod wasi_ephemeral_nn;

use std::process::exit;

use wasi_ephemeral_nn::{
    self as nn, ExecutionTarget, GraphBuilder, GraphEncoding, GraphExecutionContext, NnErrno,
    Tensor, TensorData, TensorDimensions, TensorType,
};

const SIDE: usize = 8;
const PIXELS: usize = SIDE * SIDE;
const CLASSES: usize = 10;
const DEFAULT_NAME: &str = "digits";

/// Why the guest stops: the exit code and the message for stderr.
struct Failure {
    code: i32,
    message: String,
}

fn bad_input(message: String) -> Failure {
    Failure { code: 2, message }
}

fn nn_failed(call: &str, e: NnErrno) -> Failure {
    Failure { code: 1, message: format!("wasi-nn {} failed: {}", call, e) }
}

fn read_file(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| bad_input(format!("{}: cannot read: {}", path, e)))
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

// ---- PGM -------------------------------------------------------------------------------

/// The next header number of a PGM, after whitespace and `#` comments.
fn pgm_number(data: &[u8], pos: &mut usize) -> Option<u32> {
    loop {
        match data.get(*pos) {
            Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c') => *pos += 1,
            Some(b'#') => {
                while !matches!(data.get(*pos), None | Some(b'\n' | b'\r')) {
                    *pos += 1;
                }
            }
            _ => break,
        }
    }
    let start = *pos;
    let mut value: u32 = 0;
    while let Some(&c) = data.get(*pos) {
        if !c.is_ascii_digit() {
            break;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(c - b'0'))?;
        *pos += 1;
    }
    if *pos == start {
        None
    } else {
        Some(value)
    }
}

/// A binary PGM (P5) of 8×8 pixels as the model's input: each pixel scaled to 0..16.
fn parse_pgm(name: &str, data: &[u8]) -> Result<[f32; PIXELS], Failure> {
    let fail = |what: String| Err(bad_input(format!("{}: {}", name, what)));
    if data.len() < 2 || &data[..2] != b"P5" {
        return fail("not a binary PGM (no P5 magic number)".to_string());
    }
    let mut pos = 2;
    let mut fields = [0u32; 3];
    for (field, what) in fields.iter_mut().zip(["width", "height", "maxval"]) {
        match pgm_number(data, &mut pos) {
            Some(v) => *field = v,
            None => return fail(format!("bad PGM header: no {}", what)),
        }
    }
    let [width, height, maxval] = fields;
    if (width, height) != (SIDE as u32, SIDE as u32) {
        return fail(format!("image is {}x{}, expected {}x{}", width, height, SIDE, SIDE));
    }
    if !(1..=255).contains(&maxval) {
        return fail(format!("maxval {} is not in 1..255", maxval));
    }
    if !matches!(data.get(pos), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')) {
        return fail("bad PGM header: no whitespace after maxval".to_string());
    }
    pos += 1;
    let raster = &data[pos..];
    if raster.len() < PIXELS {
        return fail(format!("truncated: {} pixel bytes, expected {}", raster.len(), PIXELS));
    }
    let mut pixels = [0f32; PIXELS];
    for (out, &p) in pixels.iter_mut().zip(raster) {
        if u32::from(p) > maxval {
            return fail(format!("pixel value {} exceeds maxval {}", p, maxval));
        }
        *out = (u32::from(p) * 16) as f32 / maxval as f32;
    }
    Ok(pixels)
}

// ---- wasi-nn ---------------------------------------------------------------------------

struct Classifier {
    ctx: GraphExecutionContext,
}

impl Classifier {
    /// Preloaded by the host (`--nn-graph openvino::.../NAME`), or read from `model_dir`.
    fn new(model_dir: Option<&str>, name: &str) -> Result<Self, Failure> {
        let graph = match model_dir {
            None => nn::load_by_name(name).map_err(|e| nn_failed("load_by_name", e))?,
            Some(dir) => {
                let xml = read_file(&format!("{}/model.xml", dir))?;
                let weights = read_file(&format!("{}/model.bin", dir))?;
                let builders = [GraphBuilder::new(&xml), GraphBuilder::new(&weights)];
                nn::load(&builders, GraphEncoding::OPENVINO, ExecutionTarget::CPU)
                    .map_err(|e| nn_failed("load", e))?
            }
        };
        let ctx = nn::init_execution_context(graph)
            .map_err(|e| nn_failed("init_execution_context", e))?;
        Ok(Self { ctx })
    }

    fn classify(&self, pixels: &[f32; PIXELS]) -> Result<[f32; CLASSES], Failure> {
        let dims = [1u32, PIXELS as u32];
        let bytes: Vec<u8> = pixels.iter().flat_map(|v| v.to_le_bytes()).collect();
        let tensor = Tensor {
            dimensions: TensorDimensions::new(&dims),
            type_: TensorType::F32,
            data: TensorData::new(&bytes),
        };
        nn::set_input(self.ctx, 0, &tensor).map_err(|e| nn_failed("set_input", e))?;
        nn::compute(self.ctx).map_err(|e| nn_failed("compute", e))?;
        let mut out = [0u8; CLASSES * 4];
        let written = nn::get_output_into(self.ctx, 0, &mut out)
            .map_err(|e| nn_failed("get_output", e))?;
        if written as usize != out.len() {
            return Err(Failure {
                code: 1,
                message: format!("output 0 is {} bytes, expected {}", written, out.len()),
            });
        }
        let mut scores = [0f32; CLASSES];
        for (s, c) in scores.iter_mut().zip(out.chunks_exact(4)) {
            *s = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        Ok(scores)
    }
}

/// Class indices by descending score; equal scores keep the lower class first.
fn ranking(scores: &[f32; CLASSES]) -> [usize; CLASSES] {
    let mut order = [0usize; CLASSES];
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }
    // Insertion sort, moving an element only past strictly smaller scores: stable.
    for i in 1..CLASSES {
        let mut j = i;
        while j > 0 && scores[order[j]] > scores[order[j - 1]] {
            order.swap(j, j - 1);
            j -= 1;
        }
    }
    order
}

fn heldout(classifier: &Classifier, path: &str) -> Result<(), Failure> {
    let data = read_file(path)?;
    if data.len() < 4 {
        return Err(bad_input(format!("{}: too short for a heldout file", path)));
    }
    let count = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let records = &data[4..];
    if records.len() != count * (PIXELS + 1) {
        return Err(bad_input(format!(
            "{}: {} records need {} bytes after the count, found {}",
            path, count, count * (PIXELS + 1), records.len()
        )));
    }
    let mut correct = 0;
    for record in records.chunks_exact(PIXELS + 1) {
        let mut pixels = [0f32; PIXELS];
        for (out, &p) in pixels.iter_mut().zip(&record[..PIXELS]) {
            *out = f32::from(p);
        }
        let scores = classifier.classify(&pixels)?;
        if ranking(&scores)[0] == usize::from(record[PIXELS]) {
            correct += 1;
        }
    }
    println!("accuracy {}/{}", correct, count);
    Ok(())
}

fn images(classifier: &Classifier, paths: &[String]) -> Result<(), Failure> {
    let mut bad: Option<Failure> = None;
    for path in paths {
        let pixels = match read_file(path).and_then(|data| parse_pgm(path, &data)) {
            Ok(pixels) => pixels,
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                bad = Some(failure);
                continue;
            }
        };
        let scores = classifier.classify(&pixels)?;
        let top: Vec<String> = ranking(&scores)[..3]
            .iter()
            .map(|&c| format!("{} ({:.3})", c, scores[c]))
            .collect();
        println!("{}: {}", base_name(path), top.join(", "));
    }
    match bad {
        // Every message is out already; exit 2 without repeating the last one.
        Some(failure) => Err(Failure { code: failure.code, message: String::new() }),
        None => Ok(()),
    }
}

fn usage(message: &str) -> Failure {
    bad_input(format!(
        "{}\nusage: digits [--model DIR | --name NAME] (IMAGE.pgm... | --heldout FILE)",
        message
    ))
}

fn run(args: &[String]) -> Result<(), Failure> {
    let (mut model_dir, mut name, mut heldout_file) = (None, DEFAULT_NAME.to_string(), None);
    let mut paths = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| {
            it.next().cloned().ok_or_else(|| usage(&format!("{} needs a value", flag)))
        };
        match arg.as_str() {
            "--model" => model_dir = Some(value("--model")?),
            "--name" => name = value("--name")?,
            "--heldout" => heldout_file = Some(value("--heldout")?),
            flag if flag.starts_with("--") => return Err(usage(&format!("unknown option {}", flag))),
            _ => paths.push(arg.clone()),
        }
    }
    match (&heldout_file, paths.is_empty()) {
        (None, true) => return Err(usage("no images given")),
        (Some(_), false) => return Err(usage("--heldout takes no images")),
        _ => {}
    }
    let classifier = Classifier::new(model_dir.as_deref(), &name)?;
    match heldout_file {
        Some(file) => heldout(&classifier, &file),
        None => images(&classifier, &paths),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(failure) = run(&args) {
        if !failure.message.is_empty() {
            eprintln!("error: {}", failure.message);
        }
        exit(failure.code);
    }
}
