// The wasi-nn run-test scenario (tests/guests/SCENARIO.md) as a Rust guest, built only on
// the generated bindings in generated/rust/. Build: rustc --edition 2021 --target wasm32-wasi
// -O scenario.rs -o scenario.wasm (the `#[path]` below is relative to this file).

#[allow(dead_code)] // the bindings cover the whole module; the scenario uses part of it
#[rustfmt::skip] // formatting this file must not rewrite the generated one
#[path = "../../../generated/rust/wasi_ephemeral_nn.rs"]
mod wasi_ephemeral_nn;

use std::fmt::Debug;
use std::process::exit;

use wasi_ephemeral_nn::{
    self as nn, ExecutionTarget, Graph, GraphBuilder, GraphEncoding, NnErrno, Tensor, TensorData,
    TensorDimensions, TensorType,
};

fn fail(step: u32, what: &str) -> ! {
    println!("FAIL step {}: {}", step, what);
    exit(1)
}

fn ok<T>(step: u32, result: Result<T, NnErrno>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => fail(step, &format!("expected Ok, got Err({})", e)),
    }
}

fn err<T: Debug>(step: u32, result: Result<T, NnErrno>, want: NnErrno) {
    match result {
        Err(e) if e == want => {}
        Err(e) => fail(step, &format!("expected Err({}), got Err({})", want, e)),
        Ok(value) => fail(
            step,
            &format!("expected Err({}), got Ok({:?})", want, value),
        ),
    }
}

fn main() {
    let xml = GraphBuilder::new(b"<xml/>");
    let weights = GraphBuilder::new(&[1, 2, 3]);
    let (a, b) = (GraphBuilder::new(b"a"), GraphBuilder::new(b"b"));
    let (openvino, cpu) = (GraphEncoding::OPENVINO, ExecutionTarget::CPU);

    let g1 = ok(1, nn::load(&[xml, weights], openvino, cpu));
    err(
        2,
        nn::load(&[xml], openvino, cpu),
        NnErrno::INVALID_ARGUMENT,
    );
    err(
        3,
        nn::load(&[a, b], GraphEncoding::ONNX, cpu),
        NnErrno::INVALID_ENCODING,
    );
    err(
        4,
        nn::load(&[a, b], openvino, ExecutionTarget::TPU),
        NnErrno::UNSUPPORTED_OPERATION,
    );

    let g2 = ok(5, nn::load_by_name("add1"));
    if g2 == g1 {
        fail(
            5,
            &format!("load_by_name returned the handle of step 1 ({:?})", g1),
        );
    }
    err(6, nn::load_by_name("nope"), NnErrno::NOT_FOUND);

    let ctx = ok(7, nn::init_execution_context(g1));
    err(
        8,
        nn::init_execution_context(Graph(0x7FFF_FFF0)),
        NnErrno::INVALID_ARGUMENT,
    );

    let dims = [1u32, 4];
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let tensor = Tensor {
        dimensions: TensorDimensions::new(&dims),
        type_: TensorType::F32,
        data: TensorData::new(&data),
    };
    ok(9, nn::set_input(ctx, 0, &tensor));
    err(
        10,
        nn::set_input(ctx, 1, &tensor),
        NnErrno::INVALID_ARGUMENT,
    );

    let mut buf = [0u8; 16];
    err(11, nn::get_output_into(ctx, 0, &mut buf), NnErrno::INVALID_ARGUMENT);
    ok(12, nn::compute(ctx));
    let written = ok(13, nn::get_output_into(ctx, 0, &mut buf));
    let values: Vec<f32> = buf
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if written != 16 || values != [2.0, 3.0, 4.0, 5.0] {
        fail(
            13,
            &format!(
                "expected 16 bytes of [2.0, 3.0, 4.0, 5.0], got {} of {:?}",
                written, values
            ),
        );
    }
    err(14, nn::get_output_into(ctx, 0, &mut [0u8; 8]), NnErrno::TOO_LARGE);
    err(15, nn::get_output_into(ctx, 3, &mut buf), NnErrno::INVALID_ARGUMENT);
    println!("PASS");
}
