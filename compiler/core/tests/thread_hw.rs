//! The emulator against an NVIDIA H100 (sm_90): results of the real instructions on deterministic
//! pseudo-random inputs, recorded once on the GPU by a CUDA program with inline PTX (the same input
//! generator is below) and embedded here, so this test runs anywhere.
//!
//! * `mma.sync` m16n8k16 f16/bf16 → f32 (ordinary and wide-exponent inputs) and m16n8k32 s8 → s32:
//!   every D element (integer exactly; floats within a bound, see `mma_matches_h100`);
//! * `ldmatrix` x1/x2/x4 with and without `.trans`, 144 `shfl.sync` cases (4 modes × 6 lane
//!   operands × 6 clamp/segment operands), 65536 `prmt` and `lop3` (every LUT) and `add`/`sub`/
//!   `mul`/`fma.rn.f16x2` on random bit patterns (NaN results compared as NaN): bit-exact, by hash.

use tilec_core::thread::{emulate, lop3, ArgValue, BinOp, Builder, MmaKind, Program, Reg, ShflMode, Ty};
use tilec_dtype::{encode, DType};
use tilec_layout::atoms::{self, Operand};

fn sm(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn in32(stream: u64, i: u64) -> u32 {
    sm((stream << 32).wrapping_add(i)) as u32
}

fn fnv(words: &[u32]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for w in words {
        for k in 0..4 {
            h ^= ((w >> (8 * k)) & 0xff) as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

fn raw(dtype: DType, codes: &[u64]) -> ArgValue {
    let mut bytes = vec![0u8; dtype.nbytes(codes.len())];
    for (i, &c) in codes.iter().enumerate() {
        tilec_dtype::pack::set(dtype.bits(), &mut bytes, i, c);
    }
    ArgValue::Global { dtype, bytes }
}

fn words(a: &ArgValue) -> Vec<u32> {
    let ArgValue::Global { bytes, .. } = a else { panic!() };
    bytes.chunks(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn lane_offset(b: &mut Builder, lane: Reg, per_lane: i64, slot: i64, size: i64) -> Reg {
    let l = b.cast(lane, DType::I64);
    let n = b.i64(per_lane);
    let base = b.mul(l, n);
    let s = b.i64(slot);
    let e = b.add(base, s);
    let w = b.i64(size);
    b.mul(e, w)
}

/// Gathers A/B/C fragments by the layout atoms' index tables (params 4..7), runs the mma, scatters D.
fn mma_program(kind: MmaKind) -> Program {
    let (input, acc) = (kind.input(), kind.acc());
    let mut b = Builder::new("mma");
    let pa = b.param_global("a", input);
    let pb = b.param_global("b", input);
    let pc = b.param_global("c", acc.dtype);
    let pd = b.param_global("d", acc.dtype);
    let tables = [b.param_global("ia", DType::I32), b.param_global("ib", DType::I32), b.param_global("ic", DType::I32)];
    let lane = b.lane_id();
    let p = 32 / input.bits() as i64;
    let lens = [4 * p, 2 * p, 4];
    let mut frags = Vec::new();
    for (op, (param, dt)) in [(pa, input), (pb, input), (pc, acc.dtype)].into_iter().enumerate() {
        let mut elems = Vec::new();
        for i in 0..lens[op] {
            let toff = lane_offset(&mut b, lane, lens[op], i, 4);
            let idx = b.load_global(tables[op], toff, Ty::scalar(DType::I32), None, None);
            let idx = b.cast(idx, DType::I64);
            let size = b.i64(dt.bits() as i64 / 8);
            let off = b.mul(idx, size);
            elems.push(b.load_global(param, off, Ty::scalar(dt), None, None));
        }
        frags.push(b.pack(&elems));
    }
    let ra = b.bitcast(frags[0], Ty::vec(DType::U32, 4));
    let rb = b.bitcast(frags[1], Ty::vec(DType::U32, 2));
    let d = b.mma(kind, ra, rb, frags[2]);
    for i in 0..4 {
        let toff = lane_offset(&mut b, lane, 4, i, 4);
        let idx = b.load_global(tables[2], toff, Ty::scalar(DType::I32), None, None);
        let idx = b.cast(idx, DType::I64);
        let four = b.i64(4);
        let off = b.mul(idx, four);
        let v = b.extract(d, i as u32);
        b.store_global(pd, off, v, None);
    }
    b.finish()
}

fn index_table(shape: &str, dtype: &str, op: Operand) -> ArgValue {
    let l = atoms::mma(shape, dtype, op).unwrap();
    let cols = l.shape()[1];
    let mut t = Vec::new();
    for lane in 0..32 {
        for i in 0..l.num_values() {
            let c = l.coords(lane, i).unwrap();
            t.push((c[0] * cols + c[1]) as f64);
        }
    }
    ArgValue::tensor(DType::I32, &t)
}

/// The inputs the CUDA program generated for `kind` (0 f16, 1 bf16, 2 s8) and `trial`, as codes.
fn mma_inputs(kind: u64, trial: u64) -> (Vec<u64>, Vec<u64>, Vec<u64>) {
    let k = if kind == 2 { 32 } else { 16 };
    let s = 100 + 10 * kind + trial;
    let value = |r: u32| -> u64 {
        match kind {
            0 if trial == 2 => encode(DType::F16, (if r & 1 == 1 { -1.0 } else { 1.0 }) * 2f64.powi(((r >> 1) % 30) as i32 - 14)),
            0 => encode(DType::F16, ((r % 2001) as f64 - 1000.0) / 256.0),
            1 if trial == 2 => encode(DType::BF16, (if r & 1 == 1 { -1.0 } else { 1.0 }) * 2f64.powi(((r >> 1) % 60) as i32 - 30)),
            1 => encode(DType::BF16, ((r % 511) as f64 - 255.0) / 256.0),
            _ => (r & 0xff) as u64,
        }
    };
    let a = (0..16 * k).map(|i| value(in32(s, i))).collect();
    let b = (0..k * 8).map(|i| value(in32(s + 1000, i))).collect();
    let c = (0..128)
        .map(|i| {
            let r = in32(s + 2000, i);
            if kind == 2 {
                ((r % 200001) as i64 - 100000) as u32 as u64
            } else {
                encode(DType::F32, ((r % 20001) as f64 - 10000.0) / 1024.0)
            }
        })
        .collect();
    (a, b, c)
}

fn emulate_mma(kind: u64, trial: u64) -> Vec<u32> {
    let (mk, dt, shape, name) = match kind {
        0 => (MmaKind::M16N8K16F16, DType::F16, "m16n8k16", "f16"),
        1 => (MmaKind::M16N8K16BF16, DType::BF16, "m16n8k16", "bf16"),
        _ => (MmaKind::M16N8K32S8, DType::I8, "m16n8k32", "s8"),
    };
    let (a, b, c) = mma_inputs(kind, trial);
    let acc = mk.acc().dtype;
    let mut args = vec![
        raw(dt, &a),
        raw(dt, &b),
        raw(acc, &c),
        ArgValue::zeros(acc, 128),
        index_table(shape, name, Operand::A),
        index_table(shape, name, Operand::B),
        index_table(shape, name, Operand::C),
    ];
    emulate(&mma_program(mk), &mut args, [1, 1, 1], 32).unwrap();
    words(&args[3])
}


/// `mma` D bits from the H100, one line per (kind, trial), D row-major.
const H100_MMA: &str = "\
mma f16 0 c122f940 c16cbd20 4095c3e0 c08630e0 c0ed5980 40d96b60 c136b9c0 40e225e0 3e210000 bf307e00 c1b48b20 c20b2824 4197f568 c140aa40 c1a7f258 41a8b050 41b51320 c0ef4720 c1b38c90 41d4c398 41841158 c0c82f80 3f483300 c0c7b340 c08ee3e0 c0a22380 c1a4ec30 c1fdc1d0 41971f68 40b6c2a0 c149b1e0 c01a6000 c1d1d960 c0317840 4185e980 c0a7ab00 c17d02e0 bfbf8800 c0e3d360 c0d52920 bfa56480 c04d4ac0 c0d5cae0 c0af4480 c1193cd0 4110d190 41a3f200 c0e1cd80 c2299860 41219c80 c174fc50 c1cea348 3f52bc00 4211de78 c1bcc8e8 c19c7108 c1786790 c1961670 c1405a90 418923c8 c20e1a98 4234b384 c1a1c358 4074b040 3e0cb400 c18afed0 41447470 c091b7a0 419709f0 40c5a940 c14d3d80 41525850 40996e00 3e61c000 40dd37e0 4081e440 c1b61018 41130fc0 40081240 3ffeb700 4159e0b0 c18b5d20 c0c75e20 40ed9260 40e2d2a0 c1b3dc48 414fde40 c14b8d90 40f4bfc0 c1d9d160 41e80ba0 40a0e4a0 c0ab3380 41284df0 c1de50c8 41f03050 c132b870 3bef8000 c25647f8 c0817320 c0c96a20 c14479a0 bfaaed00 4066b780 421e92c4 c1e048a8 c1b14aa0 3f7a8800 c1b54418 c1354f90 41a45080 c181f1e8 c199d6d8 41f5bab0 413edbf0 c1e85b20 40abebc0 420f4e80 c178d9b0 c157d160 412fc740 4179ddb0 c0be9180 bf9c8e80 415fca80 bede1400 40e9a860 c0348a40\n\
mma f16 1 41de2ca0 c0dc4920 427186dc c0dc0860 420ee03c 415070a0 bfba9000 c0d31400 41193b20 421a7e64 4187a9c8 c09d93a0 c0e20000 41524570 c1b498c8 416b4400 40f7afa0 c0838860 c0bd23e0 409d7880 c0cdee20 41b4c6b8 c18a8828 41b170b0 4181ae10 40fa9900 c1b22010 c0b47b20 41a9e7b8 c12decd0 be75f000 40cf3ec0 c1767460 4055ab80 4197b860 3f3a7400 c08a0e40 c0d94740 417ab450 408bd4e0 c18ac378 42067718 c08ad380 c1aa5640 c2184ef4 c2287114 c2179078 42097f64 41834bb8 40264800 c218a0ec c1ae7610 c17a61a0 c1abefb0 c2528924 420a93d4 c161b0a0 c1b93ca0 417f7780 40e95740 c1afe3a0 c080c940 410f6cd0 c1812d90 be27d400 c14a52c0 4025b500 c1a0d208 4155ccf0 41b7dc18 418fefb0 c00f42c0 4154fdf0 c159f500 c10f9230 417eadf0 c110e310 41136b20 4002af80 be02c800 414f1eb0 c10d2590 c180b698 c1b675c8 4169ff50 c159ca80 c00d3b80 c195c368 c1d1c5c8 c1f19a88 c24a509c c1a36bf8 c1258ac0 c05dcdc0 c1ecf230 40d2b440 c0ae34c0 c0c6abc0 41a394f8 418739e0 41995e38 4236bc0c 40c71640 c132b0f0 c1650c30 c1963bb8 41d67870 41d8a6a8 41726bf0 41c33588 4200869c c148c780 c1a1d190 418f66d0 c1436990 c2199dc8 40dd6d40 3d124000 c1de36c0 42088f6c bd74a000 c13852a0 c16921c0 41237990 c10ec270 c1bf0b68 418688a8 c23e1c70\n\
mma f16 2 cb0008ba 488f1924 c76db850 4880286f c6502918 c9040370 49fbf845 c68b140a 4ca0105e 4d200fb7 cbc07f75 cabfd014 cd57e0fe cbc7ff87 cd880040 c9ff7e3c 4bf01795 4c01ffb1 ccbdfc4f cbbfc854 4c0302eb 4a814e26 45fd0840 4c77fc80 cd8ff3fe 4e7e800e 4c8047f0 4c1e1081 4ccf002f cd7fff7d 4d0000fe ce040814 475f70bb 4cffe615 c87a1c3e c77e7672 4c7fdcfb ccfefe40 4c7ffb4a cb7bff01 cd015e77 492b084b 4ae7edfe 4abd7a0e c8f18712 4847e8ad 4bfffe93 4608a400 cc020016 cbe9bbc1 c9008370 497a402e c79c818f c96fe47e 4af7ffcf c7f2fcb4 cc021630 cc17dc40 4d000149 4c0000ea c9bd27a5 4bf7cdde ca15ff3c ccf7005f c7f09889 ca828cf9 463d8b71 c6a12171 c8804169 4c7fba07 c9701282 49807fe2 cb88c00b cc7b93c1 4819f810 47197115 4c400faa c6e2f524 4c00817a cd7ffbea cbfc41a7 c8f90950 47e014e0 46ff83ed 4bff822d 47b47acc 4c077c49 ce0080b2 4dff77f6 cd404822 ce040058 cc17ffe2 cc3c20b2 4c800fe1 cdc00414 4a80476d 48b34c4c 4aeffdda c9eeff20 480f00fc 4c0400ae c9cfe730 4d200079 c8031037 48c26e37 c8dc08f8 c88e7eaf 48f6107a cb018a54 4b11ff01 cc007ff7 4980f804 c8cf4191 4e7ec000 4c818120 4c008fe4 4c80a121 cd85fffe c77f2018 cba007df 4b84011d c7aa1fc8 cc7ff7ba cb80175d cd003ffa c97e207e cd002000 4c8007bd\n\
mma bf16 0 c0b99b60 c0603a80 40e66760 c0a66660 bf9d7d80 c131aca0 c021bb40 41212e40 be4b8400 3f27bc00 41228b60 c0822ac0 c0d0f7a0 c1073120 40e49960 c0aaaf20 4095c540 40d27420 410dbb30 40beea60 c0a4c460 40deee00 c01ede40 bee9a400 3fab2700 40821f20 3ff34300 bf5e4000 411fca10 c080f340 c0cbe180 c1153050 c10e5fa0 bf393300 4046dc80 c0482a80 40b95940 bf2e5a00 40b44e80 406c61c0 c03c7c40 40a775c0 c01b0640 40736300 40419d00 41363410 c09f5360 be410800 40f6c5c0 c098e3e0 bf3e0f00 bf2f3200 c0e327a0 c02a2e00 c04734c0 40f5b3a0 c12e9280 bfff5980 4003f780 c039a180 c0ca0ae0 40aa4960 40aebb20 408b64e0 403bf900 bf040a00 40d059a0 3fa65d80 c0e9fda0 41222fc0 c0916880 410668f0 c05effc0 c01e03c0 40875900 c0af3e00 40a65680 410321b0 40d1c700 4043e080 bfd5be80 3f7ce700 c01be2c0 404b1400 4013d680 c1107f10 40224940 411ae8c0 40f82bc0 bea50e00 c0c9d3a0 c106a340 c0c95980 c0ab07c0 c1073d10 40f9f100 40231ec0 c0f06540 3fad2f00 c0230e40 c045c280 c1028730 41161290 3f495100 412a7250 3fba0a00 3ec61200 3fab6380 c00a3d80 40e9d7e0 c081ae80 40000b00 c0018380 4095e720 40f55200 3faa3a00 bfae2c80 40df9cc0 402b0100 3fe4ad80 c1151fa0 40958620 40ae9e20 408ad4e0 bf9dd480 c1105890 40a41cc0 40c78500\n\
mma bf16 1 40eb3e60 c0fe3c00 4106d5f0 c0ebfe20 40d0db40 409fa520 40a70360 c008d4c0 c08166a0 40d9d200 c095c580 c0328c00 406e0f00 40a83280 bdd1c000 c0ede500 410ec9c0 41033cf0 412b5840 402ce700 3f453e00 411bd600 c0e4b880 40ffc4c0 403b6b40 41159e80 411ca200 c0a5f380 4006a8c0 c0b60400 c01ddd80 c119e130 c09f4c40 be703000 3fd81780 c0542f40 40bf4e20 40a2f960 40d7d4a0 beed9600 3e1a3400 c00ba680 c11c9f60 c1452650 40a16ba0 c1016e00 3fba1e80 41114cc0 c03ea1c0 c0978fe0 411622d0 40befb20 40ae86e0 40299dc0 c0d478e0 c0856ba0 4058bb00 c0e790a0 c10a33d0 c0e602a0 c00d00c0 41250e50 40836040 c0e47380 40531200 be666800 c0476540 c0f016c0 400c2e00 c0256140 c1025650 40029bc0 c12f0fd0 bff14500 c0c31320 3fb4c580 bd7be000 40518d80 40f46b60 c01e1180 c0de6de0 3f70e100 c092f340 c03f1240 be842200 4126e7b0 c08d5140 400b2840 40b94ce0 bf80d900 41211690 c0b4d700 c07e3940 c08aede0 c110c770 c1114860 c01bad80 c1159fa0 40c08500 40bf15e0 c0576800 41153930 402d4900 3f863d80 c08b7aa0 c10f16c0 c0a53a80 40dbcc60 40efcc20 c10b1820 40e79040 40d182c0 c0b37fa0 40c1d140 c0ff2a80 401c5cc0 c08878c0 bf107300 c096c3a0 40c9ac00 c0216380 c12dba10 410ace00 3eabe800 c01f04c0 c009c940 c0f1baa0 c03c9180\n\
mma bf16 2 597fffff 440a2268 50000000 56800001 52008032 ca6fefd0 cf7beef1 4a2f1022 4e9fdf7c cd800fba c6fdf160 50ffff00 5180003d 4fffc200 d23ff080 d00ffc04 573fd7f8 4f0a4007 59800400 d8008000 59000042 58080000 587ffc00 d5bfc000 d9800000 ca77f759 4b047fee d67fdf00 53ffdf02 52fff0fe 54101ff4 d0c00100 55803fec 490350ae d0000038 528202a0 d901ffff d8000000 59000084 56c00080 d33f6000 50000406 55800010 d4fff090 59700002 d680000f d781fff8 56100001 d093f7fe d4fffe00 cbffffdb 58fff800 57000003 d7600000 56ff800f d3808400 ce17f800 cadf01f5 d7800800 54ffdff8 57801fe0 d300002c 56801080 51021080 57800000 c9ffff60 cc801fef 547fffff 527fb7ff cc807dc3 cdafff00 4a90777a 4fa1fbc8 d000ff7e cf80083f 5403ffff 4f7dc045 d280017f d3ffe101 d28ffff4 5a000000 cc7f1001 c9fff0a5 57002000 d9800000 d18003d8 52fe0810 4a3dfcea d784002f 4e70825c 5a800000 557fffcc 51800400 54e00000 d97e0802 d3024908 d1600000 c7a00225 cefffff9 52002000 59800000 d0000000 4d7fffc4 cb00000a cc126ff7 4f0100ff cefffec1 d30803f0 547ffffd 5389ffff 54780800 d17efff8 57882110 cc00fee8 4b06fee5 d80003c0 d7ffdfff d6c02001 d8002000 55004000 d5800001 51004000 58800001 d4fffff1 d2de0004 537ffff8 d7800000 48c3c081\n\
mma s8 0 0000223f 0000c425 ffff6edb 0000ded7 ffff111d ffffc969 00011d53 00000916 00019e01 000128b5 ffff12ec ffff7161 ffffba80 ffffeff2 ffff155c ffff522c ffff0039 ffff5a12 0000de47 ffff9237 00011a04 0000bdbb 0000b63f 000233ff 00006e5d ffffa478 fffff4a1 00003da9 0001211b 00002585 ffff62d5 ffff25a8 fffe9547 ffff9dc5 ffff7f79 ffff1f65 ffff5785 ffff69e8 000077c1 0000f5d4 ffffa69f ffff2cf2 ffffd8a1 fffe2e63 00007688 00002b56 0000f68f 0001a3b9 00012c38 ffff775c ffffcdc9 00001f53 0000f549 000039b4 00006443 000043f2 0000a2a5 00015488 000001df 00011ebc ffffc766 ffff513a ffffb263 0000fee7 fffee8db 00008591 0000367e ffff1d48 0000a5f9 fffecec0 00013baf ffff6150 ffffb8de ffff4f0e 0001de07 ffff59cc 0000c62c 0001087d ffff4f4d 0002ae8d 0000d2c8 00001b45 ffff8886 ffff08a1 fffff966 fffeefb3 fffe2d6f 0000b906 0000c4ee fffef6cb ffffa0a6 ffffb638 0000c287 00003cec ffffd95b 00003cfb 00015331 00009365 0000cfae 00004355 fffe7462 fffe8636 fffe3318 fffed723 fffe9ed1 0000753c 00000abb 0000700a fffe91d0 00005cd2 fffe71be fffe78b5 fffff644 00006c27 00008456 ffff94b7 00006b98 ffff203a 0000694e ffffca02 0000636c 0000fadb 00003ebe 000004a7 ffff7435 00010c57 ffffe082 ffff6236\n\
";
const H100_LDMATRIX: u64 = 0x7aae68ebdfa7d925;
const H100_SHFL: u64 = 0x4d9f704c1937f4fb;
const H100_PRMT: u64 = 0x6cfc0d81c3ea0acf;
const H100_LOP3: u64 = 0xd2252b83ba844ccb;
const H100_F16X2: u64 = 0x134610285c9f1fff;

/// The exact D of the recorded inputs (the products are exact in f64; the sum of the 17 terms is
/// compensated, which is exact to well below an f32 ulp), and the largest term's magnitude.
fn exact_d(kind: u64, trial: u64) -> (Vec<f64>, Vec<f64>) {
    let (dt, k) = if kind == 0 { (DType::F16, 16) } else { (DType::BF16, 16) };
    let (a, b, c) = mma_inputs(kind, trial);
    let dec = |d: DType, x: u64| tilec_dtype::decode(d, x);
    let mut exact = Vec::new();
    let mut mag = Vec::new();
    for i in 0..16 {
        for j in 0..8 {
            let mut terms: Vec<f64> = (0..k).map(|x| dec(dt, a[i * k + x]) * dec(dt, b[x * 8 + j])).collect();
            terms.push(dec(DType::F32, c[i * 8 + j]));
            // Exact summation by splitting into a running sum and its error (TwoSum).
            let (mut s, mut e) = (0.0f64, 0.0f64);
            for &t in &terms {
                let n = s + t;
                let bb = n - s;
                e += (s - (n - bb)) + (t - bb);
                s = n;
            }
            exact.push(s + e);
            mag.push(terms.iter().map(|t| t.abs()).fold(0.0, f64::max));
        }
    }
    (exact, mag)
}

#[test]
fn mma_matches_h100() {
    for line in H100_MMA.lines() {
        let mut it = line.split_whitespace();
        let (_, name, trial) = (it.next(), it.next().unwrap(), it.next().unwrap().parse::<u64>().unwrap());
        let hw: Vec<u32> = it.map(|w| u32::from_str_radix(w, 16).unwrap()).collect();
        let kind = match name {
            "f16" => 0,
            "bf16" => 1,
            _ => 2,
        };
        let emu = emulate_mma(kind, trial);
        if kind == 2 {
            assert_eq!(emu, hw, "s8 mma");
            continue;
        }
        let (exact, mag) = exact_d(kind, trial);
        for i in 0..128 {
            let (e, h) = (f32::from_bits(emu[i]) as f64, f32::from_bits(hw[i]) as f64);
            // The emulator rounds the exact sum once (within half an ulp of f32).
            let ulp = |x: f64| 2f64.powi(x.abs().log2().floor() as i32 - 23);
            assert!((e - exact[i]).abs() <= 0.5 * ulp(exact[i]), "{name} {trial} D[{i}]: emulator {e} vs exact {}", exact[i]);
            // Ordinary inputs (k/256): the terms share a narrow exponent range, the sum is an f32,
            // and both are exact. (With wide exponents even an f32-representable sum may come out
            // truncated from the tensor core: 8097.03125 for 8097.04443359375 in trial 2.)
            if trial < 2 {
                assert_eq!(h, e, "{name} {trial} D[{i}]: exact result {}", exact[i]);
            }
            // The tensor core aligns the terms to the largest and truncates below about 2^-23 of
            // it (PTX leaves this unspecified): it stays within a few ulps of the largest term.
            assert!((h - e).abs() <= 4.0 * ulp(mag[i]), "{name} {trial} D[{i}]: H100 {h} vs emulator {e} (largest term {})", mag[i]);
        }
    }
}

#[test]
fn ldmatrix_matches_h100() {
    let mut b = Builder::new("ldmatrix");
    let src = b.param_global("tile", DType::U16);
    let out = b.param_global("out", DType::U32);
    let s = b.shared("s", 512, 128);
    let l = b.lane_id();
    let off = lane_offset(&mut b, l, 1, 0, 16);
    let chunk = b.load_global(src, off, Ty::vec(DType::U32, 4), None, None);
    let soff = b.cast(off, DType::I32);
    b.store_shared(s, soff, chunk, None);
    b.bar_sync();
    let c = |b: &mut Builder, v: i32| b.i32(v);
    let (c2, c8, c16) = (c(&mut b, 2), c(&mut b, 8), c(&mut b, 16));
    let j = b.div(l, c8);
    let r = b.rem(l, c8);
    let jr = b.rem(j, c2);
    let row = b.mul(jr, c8);
    let row = b.add(row, r);
    let jc = b.div(j, c2);
    let col = b.mul(jc, c8);
    let e = b.mul(row, c16);
    let e = b.add(e, col);
    let addr = b.mul(e, c2);
    let mut o = 0;
    for (count, trans) in [(1, false), (1, true), (2, false), (2, true), (4, false), (4, true)] {
        let regs = b.ldmatrix(s, addr, count, trans);
        for q in 0..count {
            let v = b.extract(regs, q);
            let lo = b.cast(l, DType::I64);
            let base = b.i64(((o + q) * 32) as i64);
            let idx = b.add(base, lo);
            let four = b.i64(4);
            let off = b.mul(idx, four);
            b.store_global(out, off, v, None);
        }
        o += count;
    }
    let tile: Vec<u64> = (0..256).map(|i| (in32(5, i) & 0xffff) as u64).collect();
    let mut args = vec![raw(DType::U16, &tile), ArgValue::zeros(DType::U32, 14 * 32)];
    emulate(&b.finish(), &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(fnv(&words(&args[1])), H100_LDMATRIX);
}

#[test]
fn shuffles_match_h100() {
    let mut b = Builder::new("shfl");
    let src = b.param_global("v", DType::U32);
    let out = b.param_global("out", DType::U32);
    let l = b.lane_id();
    let off = lane_offset(&mut b, l, 1, 0, 4);
    let v = b.load_global(src, off, Ty::U32, None, None);
    let mut k = 0;
    for bv in [0, 1, 3, 5, 16, 31] {
        for c in [0x1f, 0, 0x181f, 0x1c1f, 0x1000, 0x1803] {
            for mode in [ShflMode::Idx, ShflMode::Up, ShflMode::Down, ShflMode::Bfly] {
                let br = b.i32(bv);
                let d = b.shfl_c(mode, v, br, c, u32::MAX);
                let lo = b.cast(l, DType::I64);
                let base = b.i64(k * 32);
                let idx = b.add(base, lo);
                let four = b.i64(4);
                let o = b.mul(idx, four);
                b.store_global(out, o, d, None);
                k += 1;
            }
        }
    }
    let vals: Vec<u64> = (0..32).map(|l| in32(7, l) as u64).collect();
    let mut args = vec![raw(DType::U32, &vals), ArgValue::zeros(DType::U32, 144 * 32)];
    emulate(&b.finish(), &mut args, [1, 1, 1], 32).unwrap();
    assert_eq!(fnv(&words(&args[1])), H100_SHFL);
}

const N_BITS: u64 = 1 << 16;

fn bit_inputs() -> Vec<ArgValue> {
    (1..=3).map(|s| raw(DType::U32, &(0..N_BITS).map(|i| in32(s, i) as u64).collect::<Vec<_>>())).collect()
}

/// Canonical NaN halves (the H100 and the emulator may pick different NaN payloads).
fn canon(x: u32) -> u32 {
    let h = |v: u32| if v & 0x7c00 == 0x7c00 && v & 0x3ff != 0 { 0x7fff } else { v };
    h(x & 0xffff) | (h(x >> 16) << 16)
}

#[test]
fn prmt_and_f16x2_match_h100() {
    let mut b = Builder::new("bits");
    let (pa, pb, pc) = (b.param_global("a", DType::U32), b.param_global("b", DType::U32), b.param_global("c", DType::U32));
    let pp = b.param_global("prmt", DType::U32);
    let ph = b.param_global("h2", DType::U32);
    let blk = b.block_id(0);
    let t = b.thread_id();
    let k1024 = b.i32(1024);
    let n = b.mul(blk, k1024);
    let n = b.add(n, t);
    let off = lane_offset(&mut b, n, 1, 0, 4);
    let a = b.load_global(pa, off, Ty::U32, None, None);
    let bb = b.load_global(pb, off, Ty::U32, None, None);
    let c = b.load_global(pc, off, Ty::U32, None, None);
    let p = b.prmt(a, bb, c);
    b.store_global(pp, off, p, None);
    let (ha, hb, hc) = (b.bitcast(a, Ty::F16X2), b.bitcast(bb, Ty::F16X2), b.bitcast(c, Ty::F16X2));
    let results = [b.binary(BinOp::Add, ha, hb), b.binary(BinOp::Sub, ha, hb), b.binary(BinOp::Mul, ha, hb), b.fma(ha, hb, hc)];
    for (i, r) in results.into_iter().enumerate() {
        let o = lane_offset(&mut b, n, 4, i as i64, 4);
        let w = b.bitcast(r, Ty::U32);
        b.store_global(ph, o, w, None);
    }
    let mut args = bit_inputs();
    args.push(ArgValue::zeros(DType::U32, N_BITS as usize));
    args.push(ArgValue::zeros(DType::U32, 4 * N_BITS as usize));
    emulate(&b.finish(), &mut args, [(N_BITS / 1024) as u32, 1, 1], 1024).unwrap();
    assert_eq!(fnv(&words(&args[3])), H100_PRMT, "prmt");
    let h: Vec<u32> = words(&args[4]).into_iter().map(canon).collect();
    assert_eq!(fnv(&h), H100_F16X2, "f16x2 add/sub/mul/fma");
}

/// lop3 with LUT `n & 255` for input `n`: one program per LUT (the LUT is an immediate), thread
/// `m` taking input `lut + 256 m`.
#[test]
fn lop3_matches_h100() {
    let mut inputs = bit_inputs();
    inputs.push(ArgValue::zeros(DType::U32, N_BITS as usize));
    for lut in 0..=255u8 {
        let mut b = Builder::new("lop3");
        let (pa, pb, pc) = (b.param_global("a", DType::U32), b.param_global("b", DType::U32), b.param_global("c", DType::U32));
        let po = b.param_global("out", DType::U32);
        let t = b.thread_id();
        let k = b.i32(256);
        let n = b.mul(t, k);
        let l = b.i32(lut as i32);
        let n = b.add(n, l);
        let off = lane_offset(&mut b, n, 1, 0, 4);
        let (a, bb, c) = (b.load_global(pa, off, Ty::U32, None, None), b.load_global(pb, off, Ty::U32, None, None), b.load_global(pc, off, Ty::U32, None, None));
        let d = b.lop3(a, bb, c, lut);
        b.store_global(po, off, d, None);
        emulate(&b.finish(), &mut inputs, [1, 1, 1], 256).unwrap();
    }
    let out = words(&inputs[3]);
    // The pure function agrees with the emulated instruction.
    let (a, b, c) = (words(&inputs[0]), words(&inputs[1]), words(&inputs[2]));
    for n in 0..N_BITS as usize {
        assert_eq!(out[n], lop3(a[n], b[n], c[n], (n & 255) as u8));
    }
    assert_eq!(fnv(&out), H100_LOP3);
}

// The CUDA program that recorded the data above on an H100 (`nvcc -O2 -std=c++17 -arch=sm_90 c.cu
// && OB=bits.bin ./c`; driver 580, CUDA 13). Its `mma` lines are `H100_MMA`, its hashes the
// `H100_*` constants.
/*
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <cuda_fp16.h>
#include <vector>
typedef uint32_t U;typedef uint64_t L;
__host__ __device__ L sm(L x){x+=0x9E3779B97F4A7C15ull;x=(x^(x>>30))*0xBF58476D1CE4E5B9ull;x=(x^(x>>27))*0x94D049BB133111EBull;return x^(x>>31);}
__host__ __device__ U in(L s,L i){return (U)sm((s<<32)+i);}
L fnv(std::vector<U>&v){L h=0xcbf29ce484222325ull;for(U w:v)for(int k=0;k<4;k++){h^=(w>>(8*k))&0xff;h*=0x100000001b3ull;}return h;}
#define R4 "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"
#define OP(s) asm volatile(s R4:"=r"(d[0]),"=r"(d[1]),"=r"(d[2]),"=r"(d[3]):"r"(a[0]),"r"(a[1]),"r"(a[2]),"r"(a[3]),"r"(b[0]),"r"(b[1]),"r"(c[0]),"r"(c[1]),"r"(c[2]),"r"(c[3]))
__global__ void mk(int kind,const U*ra,const U*rb,const U*rc,U*rd){int l=threadIdx.x,g=l>>2,t=l&3;U a[4],b[2],c[4],d[4];
if(kind<2){const uint16_t*A=(const uint16_t*)ra,*B=(const uint16_t*)rb;
for(int r=0;r<4;r++){int row=g+8*(r%2),col=2*t+8*(r/2);a[r]=A[row*16+col]|((U)A[row*16+col+1]<<16);}
for(int r=0;r<2;r++){int k=2*t+8*r;b[r]=B[k*8+g]|((U)B[(k+1)*8+g]<<16);}}
else{const uint8_t*A=(const uint8_t*)ra,*B=(const uint8_t*)rb;
for(int r=0;r<4;r++){int row=g+8*(r%2),col=4*t+16*(r/2);a[r]=0;for(int q=0;q<4;q++)a[r]|=(U)A[row*32+col+q]<<(8*q);}
for(int r=0;r<2;r++){int k=4*t+16*r;b[r]=0;for(int q=0;q<4;q++)b[r]|=(U)B[(k+q)*8+g]<<(8*q);}}
for(int i=0;i<4;i++)c[i]=rc[(g+8*(i/2))*8+2*t+(i%2)];
if(kind==0)OP("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 ");else if(kind==1)OP("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 ");else OP("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 ");
for(int i=0;i<4;i++)rd[(g+8*(i/2))*8+2*t+(i%2)]=d[i];}
#define LD(s,n,...) asm volatile("ldmatrix.sync.aligned.m8n8." s ".shared.b16 " __VA_ARGS__);for(int q=0;q<n;q++)out[(o+q)*32+l]=x[q];o+=n;
__global__ void ldm(const uint16_t*tile,U*out){__shared__ __align__(128) uint16_t s[256];int l=threadIdx.x;for(int i=l;i<256;i+=32)s[i]=tile[i];__syncthreads();
int j=l/8,r=l%8;U ad=(U)__cvta_generic_to_shared(&s[((j%2)*8+r)*16+(j/2)*8]);U x[4];int o=0;
LD("x1",1,"{%0}, [%1];":"=r"(x[0]):"r"(ad))
LD("x1.trans",1,"{%0}, [%1];":"=r"(x[0]):"r"(ad))
LD("x2",2,"{%0,%1}, [%2];":"=r"(x[0]),"=r"(x[1]):"r"(ad))
LD("x2.trans",2,"{%0,%1}, [%2];":"=r"(x[0]),"=r"(x[1]):"r"(ad))
LD("x4",4,"{%0,%1,%2,%3}, [%4];":"=r"(x[0]),"=r"(x[1]),"=r"(x[2]),"=r"(x[3]):"r"(ad))
LD("x4.trans",4,"{%0,%1,%2,%3}, [%4];":"=r"(x[0]),"=r"(x[1]),"=r"(x[2]),"=r"(x[3]):"r"(ad))}
__constant__ U SB[6]={0,1,3,5,16,31};__constant__ U SC[6]={0x1f,0,0x181f,0x1c1f,0x1000,0x1803};
#define SH(m) asm volatile("shfl.sync." m ".b32 %0, %1, %2, %3, 0xffffffff;":"=r"(d):"r"(v),"r"(b),"r"(c));out[(k++)*32+l]=d;
__global__ void shf(U*out){int l=threadIdx.x;U v=in(7,l),d;int k=0;for(int bi=0;bi<6;bi++)for(int ci=0;ci<6;ci++){U b=SB[bi],c=SC[ci];SH("idx")SH("up")SH("down")SH("bfly")}}
template<int A,int B> __device__ U lop(int t,U a,U b,U c){if constexpr(B-A==1){U d;asm("lop3.b32 %0, %1, %2, %3, %4;":"=r"(d):"r"(a),"r"(b),"r"(c),"n"(A));return d;}else{constexpr int M=(A+B)/2;return t<M?lop<A,M>(t,a,b,c):lop<M,B>(t,a,b,c);}}
__device__ U cn(U x){U lo=x&0xffff,hi=x>>16;if((lo&0x7c00)==0x7c00&&(lo&0x3ff))lo=0x7fff;if((hi&0x7c00)==0x7c00&&(hi&0x3ff))hi=0x7fff;return lo|(hi<<16);}
#define H2(s,i,...) asm(s:"=r"(d):__VA_ARGS__);h[4*n+i]=cn(d);
__global__ void bits(U*p,U*lo,U*h){int n=blockIdx.x*blockDim.x+threadIdx.x;U a=in(1,n),b=in(2,n),c=in(3,n),d;
asm("prmt.b32 %0, %1, %2, %3;":"=r"(d):"r"(a),"r"(b),"r"(c));p[n]=d;lo[n]=lop<0,256>(n&255,a,b,c);
H2("add.rn.f16x2 %0, %1, %2;",0,"r"(a),"r"(b))H2("sub.rn.f16x2 %0, %1, %2;",1,"r"(a),"r"(b))H2("mul.rn.f16x2 %0, %1, %2;",2,"r"(a),"r"(b))H2("fma.rn.f16x2 %0, %1, %2, %3;",3,"r"(a),"r"(b),"r"(c))}
template<class T> T*up(std::vector<T>&v){T*d;cudaMalloc(&d,v.size()*sizeof(T));cudaMemcpy(d,v.data(),v.size()*sizeof(T),cudaMemcpyHostToDevice);return d;}
template<class T> void down(std::vector<T>&v,T*d){cudaDeviceSynchronize();cudaMemcpy(v.data(),d,v.size()*sizeof(T),cudaMemcpyDeviceToHost);}
float f16v(int trial,U r){return trial==2?ldexpf((r&1)?-1.f:1.f,(int)((r>>1)%30)-14):((int)(r%2001)-1000)/256.0f;}
float bfv(int trial,U r){return trial==2?ldexpf((r&1)?-1.f:1.f,(int)((r>>1)%60)-30):((int)(r%511)-255)/256.0f;}
uint16_t code(int kind,int trial,U r){if(kind==0)return __half_as_ushort(__float2half_rn(f16v(trial,r)));float v=bfv(trial,r);U fb;memcpy(&fb,&v,4);return fb>>16;}
int main(){const char*nm[3]={"f16","bf16","s8"};
for(int kind=0;kind<3;kind++)for(int trial=0;trial<(kind==2?1:3);trial++){int K=kind==2?32:16;L s=100+10*kind+trial;
std::vector<U>a(128),b(64),c(128),d(128);
for(int i=0;i<16*K;i++){U r=in(s,i);if(kind==2)((uint8_t*)a.data())[i]=r;else((uint16_t*)a.data())[i]=code(kind,trial,r);}
for(int i=0;i<8*K;i++){U r=in(s+1000,i);if(kind==2)((uint8_t*)b.data())[i]=r;else((uint16_t*)b.data())[i]=code(kind,trial,r);}
for(int i=0;i<128;i++){U r=in(s+2000,i);if(kind==2)c[i]=(U)((int)(r%200001)-100000);else{float v=((int)(r%20001)-10000)/1024.0f;memcpy(&c[i],&v,4);}}
U*dd=up(d);mk<<<1,32>>>(kind,up(a),up(b),up(c),dd);down(d,dd);printf("mma %s %d",nm[kind],trial);for(U w:d)printf(" %08x",w);printf("\n");}
{std::vector<uint16_t>t(256);for(int i=0;i<256;i++)t[i]=in(5,i);std::vector<U>o(14*32);U*dd=up(o);ldm<<<1,32>>>(up(t),dd);down(o,dd);printf("hash ldmatrix %016llx\n",(unsigned long long)fnv(o));}
{std::vector<U>o(144*32);U*dd=up(o);shf<<<1,32>>>(dd);down(o,dd);printf("hash shfl %016llx\n",(unsigned long long)fnv(o));}
{int n=1<<16;std::vector<U>p(n),lo(n),h(4*n);U*dp=up(p),*dl=up(lo),*dh=up(h);bits<<<n/256,256>>>(dp,dl,dh);down(p,dp);down(lo,dl);down(h,dh);
printf("hash prmt %016llx\nhash lop3 %016llx\nhash f16x2 %016llx\n",(unsigned long long)fnv(p),(unsigned long long)fnv(lo),(unsigned long long)fnv(h));
FILE*f=fopen(getenv("OB"),"wb");fwrite(p.data(),4,n,f);fwrite(lo.data(),4,n,f);fwrite(h.data(),4,4*n,f);fclose(f);}
printf("err %s\n",cudaGetErrorString(cudaGetLastError()));}
*/
