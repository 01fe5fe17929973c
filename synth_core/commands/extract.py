"""``extract``: audio clips (folder, zip, UrbanSound8K/ESC-50 layout) -> a feature file."""

from __future__ import annotations

import argparse

HELP = "extract VGGish (or weight-free log-mel) features from audio clips into a feature file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True,
                        help="folder of class folders, an UrbanSound8K/ESC-50 folder, a .zip of "
                             "class folders, or one audio file")
    parser.add_argument("--out", required=True,
                        help="NAME (saved as workspace datasets/NAME.h5) or a path ending in .h5")
    parser.add_argument("--extractor", choices=("vggish", "logmel", "spectrogram", "summary"),
                        default="logmel",
                        help="vggish: pretrained VGGish embeddings (needs the weights file); "
                             "logmel: weight-free log-mel statistics (default); spectrogram: "
                             "whole log-mel spectrograms [64 mels x 10 ms frames] that "
                             "generated rows can be played from (conv models); summary: 37 "
                             "hand-crafted numbers per clip (20 MFCCs, 12 chroma, spectral "
                             "centroid, bandwidth, roll-off, zero-crossing rate, RMS)")
    parser.add_argument("--frames", default="auto",
                        help="0.96 s frames per clip, each gives 128 numbers (4 -> 512); default "
                             "auto: the whole frames that fit in the clip length")
    parser.add_argument("--labels", default="auto",
                        help="'folder' (class folders), a CSV with file,label[,fold] columns, or "
                             "'auto' (detect UrbanSound8K/ESC-50 metadata, else class folders)")
    parser.add_argument("--duration", default="auto",
                        help="clip length in seconds: 'auto' (default: the layout's own clip "
                             "length, ESC-50 5 s, UrbanSound8K 4 s, else the median length; "
                             "every clip padded/trimmed to it), a number (keep only clips of that "
                             "length, or pad/trim with --pad), or 'none' to keep every length")
    parser.add_argument("--preset", choices=("us8k-thesis",), default=None,
                        help="us8k-thesis: the thesis's setting, keep only clips of exactly "
                             "4.0 s and 4 frames (UrbanSound8K: 7077 of 8732 clips)")
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="seconds a clip may differ from --duration (default 0.01)")
    parser.add_argument("--pad", action="store_true",
                        help="zero-pad short clips and trim long ones instead of skipping them")
    parser.add_argument("--sample-rate", type=int, default=16000,
                        help="rate clips are resampled to before extraction (VGGish: 16000)")
    parser.add_argument("--postprocess", action="store_true",
                        help="vggish: apply AudioSet's PCA whitening + 8-bit quantisation")
    parser.add_argument("--untrained", action="store_true",
                        help="vggish: random weights, for tests and timing only")
    parser.add_argument("--test-folds", default="",
                        help="comma-separated folds left out of the stored scaler's fit, e.g. 10")
    parser.add_argument("--device", default="auto", help="vggish: auto, cpu or cuda")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file")


def run(args: argparse.Namespace, workspace, callback) -> dict:
    from synth_core.errors import InputError
    from synth_core.data.extraction import AUTO, EXTRACT_PRESETS, ExtractConfig, extract_to_file

    duration_text = str(args.duration).strip().lower()
    frames_text = str(args.frames).strip().lower()
    try:
        duration = (None if duration_text in ("none", "any", "") else
                    AUTO if duration_text == AUTO else float(duration_text))
        frames = AUTO if frames_text == AUTO else int(frames_text)
        folds = tuple(int(f) for f in str(args.test_folds).split(",") if f.strip())
    except ValueError as exc:
        raise InputError(f"--duration {args.duration!r} / --frames {args.frames!r} / --test-folds "
                         f"{args.test_folds!r}: give a number of seconds (or 'auto' or 'none'), "
                         "a whole number of frames (or 'auto') and comma-separated fold "
                         "numbers") from exc
    options = dict(duration=duration, frames=frames, tolerance=args.tolerance, pad=args.pad)
    if args.preset and (duration != AUTO or frames != AUTO or args.pad):
        raise InputError(f"--preset {args.preset} sets the duration, frames and padding itself; "
                         "drop --duration/--frames/--pad, or drop --preset")
    if args.extractor == "summary" and (frames != AUTO or args.preset):
        raise InputError(f"--extractor summary makes one row of 37 numbers per clip, with no "
                         f"0.96 s frames; drop {'--preset' if args.preset else '--frames'} "
                         "(--duration still sets the clip length)")
    if args.preset:
        options.update(EXTRACT_PRESETS[args.preset])
    config = ExtractConfig(extractor=args.extractor, sample_rate=args.sample_rate,
                           labels=args.labels, postprocess=args.postprocess,
                           pretrained=not args.untrained, device=args.device, test_folds=folds,
                           **options)
    return extract_to_file(args.input, args.out, config, workspace, overwrite=args.overwrite,
                           callback=callback)
