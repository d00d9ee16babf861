;; @tinypipe/core WebAssembly SIMD kernels (assembled by wabt's wat2wasm: scripts/build-kernels.ts).
;;
;; The rule that makes these bit-identical to the JavaScript reference (./reference.ts): a SIMD lane
;; never sums across an index of its own sum. Lanes hold DIFFERENT rows (matmul), positions (attention
;; scores) or output elements (attention values); each lane accumulates its own sum in the reference's
;; index order, one f32x4.mul then one f32x4.add per term: two IEEE binary32 roundings, as Math.fround
;; gives in JS. No fused multiply-add, no relaxed SIMD, no horizontal adds of float partial sums.
;;
;; Memory is imported: the engine sizes it once (weights, KV cache, state) and never grows it.
;; Bytes [0, 64) are scratch for a partial matmul block.
(module
  (import "env" "memory" (memory 1))

  ;; One block of 16 rows: w interleaved as [j][16 rows] (64 bytes per column j), x (n), 64 bytes of
  ;; results to dst. Lane r of accumulator k holds row 4k + r, summed for j = 0, 1, …, n − 1.
  (func $block16 (param $w i32) (param $x i32) (param $n i32) (param $dst i32)
    (local $xe i32) (local $xv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $xe (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $j
        (br_if $done (i32.ge_u (local.get $x) (local.get $xe)))
        (local.set $xv (v128.load32_splat (local.get $x)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $w)) (local.get $xv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $w)) (local.get $xv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $w)) (local.get $xv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $w)) (local.get $xv))))
        (local.set $w (i32.add (local.get $w) (i32.const 64)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $j)))
    (v128.store offset=0 (local.get $dst) (local.get $a0))
    (v128.store offset=16 (local.get $dst) (local.get $a1))
    (v128.store offset=32 (local.get $dst) (local.get $a2))
    (v128.store offset=48 (local.get $dst) (local.get $a3)))

  ;; Two consecutive blocks (32 rows) at once: eight independent add chains hide the add latency.
  (func $block32 (param $w i32) (param $x i32) (param $n i32) (param $dst i32)
    (local $xe i32) (local $xv v128) (local $w1 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $xe (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $w1 (i32.add (local.get $w) (i32.shl (local.get $n) (i32.const 6))))
    (block $done
      (loop $j
        (br_if $done (i32.ge_u (local.get $x) (local.get $xe)))
        (local.set $xv (v128.load32_splat (local.get $x)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load offset=0 (local.get $w)) (local.get $xv))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load offset=16 (local.get $w)) (local.get $xv))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load offset=32 (local.get $w)) (local.get $xv))))
        (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load offset=48 (local.get $w)) (local.get $xv))))
        (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (v128.load offset=0 (local.get $w1)) (local.get $xv))))
        (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (v128.load offset=16 (local.get $w1)) (local.get $xv))))
        (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (v128.load offset=32 (local.get $w1)) (local.get $xv))))
        (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (v128.load offset=48 (local.get $w1)) (local.get $xv))))
        (local.set $w (i32.add (local.get $w) (i32.const 64)))
        (local.set $w1 (i32.add (local.get $w1) (i32.const 64)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $j)))
    (v128.store offset=0 (local.get $dst) (local.get $a0))
    (v128.store offset=16 (local.get $dst) (local.get $a1))
    (v128.store offset=32 (local.get $dst) (local.get $a2))
    (v128.store offset=48 (local.get $dst) (local.get $a3))
    (v128.store offset=64 (local.get $dst) (local.get $a4))
    (v128.store offset=80 (local.get $dst) (local.get $a5))
    (v128.store offset=96 (local.get $dst) (local.get $a6))
    (v128.store offset=112 (local.get $dst) (local.get $a7)))

  ;; out (d) = W (d, n) @ x (n), W interleaved by 16 rows (see interleave16 in ./reference.ts); the last
  ;; block's missing rows are zeros, computed in scratch and not written to out.
  (func (export "matmul") (param $w i32) (param $x i32) (param $out i32) (param $n i32) (param $d i32)
    (local $stride i32) (local $i i32)
    (local.set $stride (i32.shl (local.get $n) (i32.const 6)))
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.lt_u (local.get $d) (i32.const 32)))
        (call $block32 (local.get $w) (local.get $x) (local.get $n) (local.get $out))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $stride) (i32.const 1))))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (local.set $d (i32.sub (local.get $d) (i32.const 32)))
        (br $pairs)))
    (if (i32.ge_u (local.get $d) (i32.const 16))
      (then
        (call $block16 (local.get $w) (local.get $x) (local.get $n) (local.get $out))
        (local.set $w (i32.add (local.get $w) (local.get $stride)))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (local.set $d (i32.sub (local.get $d) (i32.const 16)))))
    (if (i32.gt_u (local.get $d) (i32.const 0))
      (then
        (call $block16 (local.get $w) (local.get $x) (local.get $n) (i32.const 0))
        (block $copied
          (loop $copy
            (br_if $copied (i32.ge_u (local.get $i) (local.get $d)))
            (f32.store
              (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
              (f32.load (i32.shl (local.get $i) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy))))))

  ;; Attention scores of one head: att[t] = (Σ_i q[i] · k[t, i]) / scale for t = 0 … ⌈nt/4⌉·4 − 1.
  ;; k holds positions in blocks of 4: block b is [i][4 positions] (hs · 16 bytes). Lane = position; each
  ;; lane sums over i in index order. Lanes past nt − 1 are written (att has room) and ignored.
  (func (export "scores") (param $q i32) (param $k i32) (param $att i32) (param $hs i32) (param $nt i32) (param $scale f32)
    (local $blk i32) (local $sv v128) (local $i i32) (local $qv v128) (local $a0 v128) (local $a1 v128)
    (local $kp i32)
    (local.set $blk (i32.shl (local.get $hs) (i32.const 4)))
    (local.set $sv (f32x4.splat (local.get $scale)))
    ;; two blocks (8 positions) at a time while more than 4 positions remain
    (block $pairs_done
      (loop $pairs
        (br_if $pairs_done (i32.le_s (local.get $nt) (i32.const 4)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (local.set $kp (local.get $k))
        (block $i_done
          (loop $il
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $hs)))
            (local.set $qv (v128.load32_splat (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qv) (v128.load (local.get $kp)))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (local.get $qv) (v128.load (i32.add (local.get $kp) (local.get $blk))))))
            (local.set $kp (i32.add (local.get $kp) (i32.const 16)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (v128.store offset=0 (local.get $att) (f32x4.div (local.get $a0) (local.get $sv)))
        (v128.store offset=16 (local.get $att) (f32x4.div (local.get $a1) (local.get $sv)))
        (local.set $k (i32.add (local.get $k) (i32.shl (local.get $blk) (i32.const 1))))
        (local.set $att (i32.add (local.get $att) (i32.const 32)))
        (local.set $nt (i32.sub (local.get $nt) (i32.const 8)))
        (br $pairs)))
    (if (i32.gt_s (local.get $nt) (i32.const 0))
      (then
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $i_done
          (loop $il
            (br_if $i_done (i32.ge_u (local.get $i) (local.get $hs)))
            (local.set $qv (v128.load32_splat (i32.add (local.get $q) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $qv) (v128.load (local.get $k)))))
            (local.set $k (i32.add (local.get $k) (i32.const 16)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
        (v128.store (local.get $att) (f32x4.div (local.get $a0) (local.get $sv))))))

  ;; Attention output of one head: out[i] = Σ_t att[t] · v[t, i] for i < hs, t = 0 … nt − 1 in order,
  ;; from +0. v rows are `stride` bytes apart. Lane = output element i.
  (func (export "values") (param $att i32) (param $v i32) (param $out i32) (param $hs i32) (param $nt i32) (param $stride i32)
    (local $i i32) (local $t i32) (local $av v128) (local $vp i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f32)
    ;; 16 outputs at a time
    (block $b16_done
      (loop $b16
        (br_if $b16_done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $hs)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $vp (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $t) (local.get $nt)))
            (local.set $av (v128.load32_splat (i32.add (local.get $att) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $av) (v128.load offset=0 (local.get $vp)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $av) (v128.load offset=16 (local.get $vp)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $av) (v128.load offset=32 (local.get $vp)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $av) (v128.load offset=48 (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tl)))
        (local.set $vp (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))))
        (v128.store offset=0 (local.get $vp) (local.get $a0))
        (v128.store offset=16 (local.get $vp) (local.get $a1))
        (v128.store offset=32 (local.get $vp) (local.get $a2))
        (v128.store offset=48 (local.get $vp) (local.get $a3))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $b16)))
    ;; 4 at a time
    (block $b4_done
      (loop $b4
        (br_if $b4_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $hs)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $vp (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $t) (local.get $nt)))
            (local.set $av (v128.load32_splat (i32.add (local.get $att) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $av) (v128.load (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tl)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $a0))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $b4)))
    ;; the rest one at a time
    (block $b1_done
      (loop $b1
        (br_if $b1_done (i32.ge_u (local.get $i) (local.get $hs)))
        (local.set $s (f32.const 0))
        (local.set $vp (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $t_done
          (loop $tl
            (br_if $t_done (i32.ge_u (local.get $t) (local.get $nt)))
            (local.set $s (f32.add (local.get $s)
              (f32.mul (f32.load (i32.add (local.get $att) (i32.shl (local.get $t) (i32.const 2))))
                       (f32.load (local.get $vp)))))
            (local.set $vp (i32.add (local.get $vp) (local.get $stride)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $tl)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $b1))))

  ;; x[i] = x[i] / d for i < n (softmax's normalisation): one IEEE division per element.
  (func $divide (export "divide") (param $x i32) (param $n i32) (param $d f32)
    (local $dv v128) (local $e i32) (local $e4 i32)
    (local.set $dv (f32x4.splat (local.get $d)))
    (local.set $e (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $e4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $v_done
      (loop $vl
        (br_if $v_done (i32.ge_u (local.get $x) (local.get $e4)))
        (v128.store (local.get $x) (f32x4.div (v128.load (local.get $x)) (local.get $dv)))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (br $vl)))
    (block $s_done
      (loop $sl
        (br_if $s_done (i32.ge_u (local.get $x) (local.get $e)))
        (f32.store (local.get $x) (f32.div (f32.load (local.get $x)) (local.get $d)))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $sl))))

  ;; Quantized matmul (docs/numerics.md §4) of 4 rows: w holds the block's int8 weights as 16-byte chunks
  ;; (4 columns × 4 rows: columns j, j+1 of rows 0–3, then columns j+2, j+3 of rows 0–3), n4 columns
  ;; (padded with zeros to a multiple of 4); ws the block's scales [group][4 rows]; x16 the activation
  ;; ints widened to int16 (n4, zero padded); xs its scales (groups). Lane = row. Per group: the exact
  ;; int32 dot (any order: integers), then acc = acc + fp32(dot) · (sw · sx) in binary32, groups in order.
  (func $qblock4 (param $w i32) (param $ws i32) (param $x i32) (param $xs i32) (param $n4 i32)
                 (param $g i32) (param $dst i32)
    (local $facc v128) (local $iacc v128) (local $v v128) (local $j i32) (local $end i32)
    (block $groups_done
      (loop $groups
        (br_if $groups_done (i32.ge_u (local.get $j) (local.get $n4)))
        (local.set $end (i32.add (local.get $j) (local.get $g)))
        (if (i32.gt_u (local.get $end) (local.get $n4)) (then (local.set $end (local.get $n4))))
        (local.set $iacc (v128.const i32x4 0 0 0 0))
        (block $cols_done
          (loop $cols
            (br_if $cols_done (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $v (v128.load (local.get $w)))
            (local.set $iacc (i32x4.add (local.get $iacc)
              (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $v))
                (v128.load32_splat (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 1)))))))
            (local.set $iacc (i32x4.add (local.get $iacc)
              (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $v))
                (v128.load32_splat offset=4 (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 1)))))))
            (local.set $w (i32.add (local.get $w) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $cols)))
        (local.set $facc (f32x4.add (local.get $facc)
          (f32x4.mul (f32x4.convert_i32x4_s (local.get $iacc))
            (f32x4.mul (v128.load (local.get $ws)) (v128.load32_splat (local.get $xs))))))
        (local.set $ws (i32.add (local.get $ws) (i32.const 16)))
        (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
        (br $groups)))
    (v128.store (local.get $dst) (local.get $facc)))

  ;; out (d) = quantized W (d, n) @ x: blocks of 4 rows (see $qblock4), block b's weights at
  ;; w + b · n4 · 4 and scales at ws + b · groups · 16; missing rows of the last block are not written.
  (func (export "qmatmul") (param $w i32) (param $ws i32) (param $x i32) (param $xs i32) (param $out i32)
                           (param $n4 i32) (param $g i32) (param $groups i32) (param $d i32)
    (local $i i32)
    (block $done
      (loop $blocks
        (br_if $done (i32.lt_u (local.get $d) (i32.const 4)))
        (call $qblock4 (local.get $w) (local.get $ws) (local.get $x) (local.get $xs) (local.get $n4) (local.get $g) (local.get $out))
        (local.set $w (i32.add (local.get $w) (i32.shl (local.get $n4) (i32.const 2))))
        (local.set $ws (i32.add (local.get $ws) (i32.shl (local.get $groups) (i32.const 4))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $d (i32.sub (local.get $d) (i32.const 4)))
        (br $blocks)))
    (if (i32.gt_u (local.get $d) (i32.const 0))
      (then
        (call $qblock4 (local.get $w) (local.get $ws) (local.get $x) (local.get $xs) (local.get $n4) (local.get $g) (i32.const 0))
        (block $copied
          (loop $copy
            (br_if $copied (i32.ge_u (local.get $i) (local.get $d)))
            (f32.store
              (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
              (f32.load (i32.shl (local.get $i) (i32.const 2))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $copy))))))

  ;; expf32 of docs/numerics.md §5, operation for operation (src/numerics/exp.ts is the reference):
  ;; binary32 + − ×, round half away from zero by truncating fl(t ± 0.5), 2^k from exponent bits.
  (func $expf32 (export "expf32") (param $x f32) (result f32)
    (local $t f32) (local $k i32) (local $kf f32) (local $r f32) (local $p f32)
    (if (f32.ne (local.get $x) (local.get $x)) (then (return (local.get $x))))
    (if (f32.gt (local.get $x) (f32.reinterpret_i32 (i32.const 0x42b17218))) (then (return (f32.const inf))))
    (if (f32.lt (local.get $x) (f32.reinterpret_i32 (i32.const 0xc2cff1b5))) (then (return (f32.const 0))))
    (local.set $t (f32.mul (local.get $x) (f32.reinterpret_i32 (i32.const 0x3fb8aa3b))))
    (local.set $k (i32.trunc_f32_s (f32.add (local.get $t)
      (select (f32.const -0.5) (f32.const 0.5) (f32.lt (local.get $t) (f32.const 0))))))
    (local.set $kf (f32.convert_i32_s (local.get $k)))
    (local.set $r (f32.sub
      (f32.sub (local.get $x) (f32.mul (local.get $kf) (f32.reinterpret_i32 (i32.const 0x3f317200))))
      (f32.mul (local.get $kf) (f32.reinterpret_i32 (i32.const 0x35bfbe8e)))))
    (local.set $p (f32.reinterpret_i32 (i32.const 0x3ab60b61)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.reinterpret_i32 (i32.const 0x3c088889))))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.reinterpret_i32 (i32.const 0x3d2aaaab))))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.reinterpret_i32 (i32.const 0x3e2aaaab))))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 0.5)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 1)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 1)))
    (if (i32.gt_s (local.get $k) (i32.const 127))
      (then (return (f32.mul (f32.mul (local.get $p) (f32.reinterpret_i32 (i32.const 0x7f000000)))
        (f32.reinterpret_i32 (i32.shl (local.get $k) (i32.const 23)))))))
    (if (i32.lt_s (local.get $k) (i32.const -126))
      (then (return (f32.mul
        (f32.mul (local.get $p) (f32.reinterpret_i32 (i32.shl (i32.add (local.get $k) (i32.const 253)) (i32.const 23))))
        (f32.reinterpret_i32 (i32.const 0x00800000))))))
    (f32.mul (local.get $p) (f32.reinterpret_i32 (i32.shl (i32.add (local.get $k) (i32.const 127)) (i32.const 23)))))

  ;; softmax of docs/numerics.md §6 over x[0 … n) in place with $expf32: max by `>` from x[0] (as the
  ;; reference's loop), e_i = expf32(x_i − max), their sum in index order, then x_i = e_i / sum.
  (func (export "softmax_spec") (param $x i32) (param $n i32)
    (local $max f32) (local $sum f32) (local $e f32) (local $p i32) (local $end i32) (local $v f32)
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
    (local.set $max (f32.load (local.get $x)))
    (local.set $p (i32.add (local.get $x) (i32.const 4)))
    (block $m_done
      (loop $m
        (br_if $m_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f32.load (local.get $p)))
        (if (f32.gt (local.get $v) (local.get $max)) (then (local.set $max (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $m)))
    (local.set $p (local.get $x))
    (block $e_done
      (loop $el
        (br_if $e_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $e (call $expf32 (f32.sub (f32.load (local.get $p)) (local.get $max))))
        (f32.store (local.get $p) (local.get $e))
        (local.set $sum (f32.add (local.get $sum) (local.get $e)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $el)))
    (call $divide (local.get $x) (local.get $n) (local.get $sum)))

  ;; SwiGLU of docs/numerics.md §6 with $expf32: h_i = (v_i · (1 / (1 + expf32(−v_i)))) · u_i, into h (= v).
  (func (export "swiglu_spec") (param $v i32) (param $u i32) (param $n i32)
    (local $end i32) (local $a f32)
    (local.set $end (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $v) (local.get $end)))
        (local.set $a (f32.load (local.get $v)))
        (local.set $a (f32.mul (local.get $a)
          (f32.div (f32.const 1) (f32.add (f32.const 1) (call $expf32 (f32.neg (local.get $a)))))))
        (f32.store (local.get $v) (f32.mul (local.get $a) (f32.load (local.get $u))))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (local.set $u (i32.add (local.get $u) (i32.const 4)))
        (br $l))))
)
