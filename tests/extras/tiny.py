"""Tiny models built from configs, saved in the real on-disk layouts (random weights).

They let the engines of the torch extras run their real loading and generation code on this
machine, where no real weights can be fetched. Every builder imports torch and friends itself,
so importing this module costs nothing.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import numpy as np

CORPUS = [
    "hello world. how are you today? i am fine, thank you.",
    "please summarise this text. make it formal. reply to the speaker.",
    "the quick brown fox jumps over the lazy dog.",
    "message: reply: text: answer the question in a few sentences.",
]


def train_tokenizer(chat_template: str | None = None) -> Any:
    """A small BPE tokenizer (tokenizers library), as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    specials = ["<pad>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=specials, initial_alphabet=list(string.printable)
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    tok.post_processor = TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    if chat_template:
        fast.chat_template = chat_template
    return fast


def build_t5(directory: Path) -> Path:
    """A tiny T5 (seq2seq, like flan-t5) with its tokenizer, via save_pretrained."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, T5Config

    tokenizer = train_tokenizer()
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(0)
    AutoModelForSeq2SeqLM.from_config(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_llama(directory: Path) -> Path:
    """A tiny causal LM (Llama architecture, like SmolLM2) with a chat template."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    tokenizer = train_tokenizer(CHAT_TEMPLATE)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


BARK_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz.,!?'"]
BARK_PRESETS = ("v2/en_speaker_1", "v2/en_speaker_9", "v2/hi_speaker_2", "v2/hi_speaker_0")


def bark_preset(seed: int, semantic: int = 120, frames: int = 180) -> dict[str, np.ndarray]:
    """A random history prompt of Bark's shapes: semantic (T,), coarse (2, F), fine (8, F)."""
    rng = np.random.default_rng(seed)
    return {
        "semantic_prompt": rng.integers(0, 10_000, semantic),
        "coarse_prompt": rng.integers(0, 1024, (2, frames)),
        "fine_prompt": rng.integers(0, 1024, (8, frames)),
    }


def build_bark(directory: Path, presets: tuple[str, ...] = BARK_PRESETS) -> Path:
    """A tiny Bark in suno/bark-small's layout: config.json, generation_config.json,
    model.safetensors, the tokenizer, and presets under speaker_embeddings/ listed in
    speaker_embeddings_path.json."""
    import torch
    from transformers import BarkConfig, BarkModel, BertTokenizer
    from transformers.models.bark.generation_configuration_bark import BarkGenerationConfig

    # weights large enough (initializer_range) that a history prompt changes what is sampled
    layers = dict(block_size=1024, num_layers=1, num_heads=2, hidden_size=16, initializer_range=0.3)
    config = BarkConfig(
        semantic_config=dict(layers, input_vocab_size=129_600, output_vocab_size=10_048),
        coarse_acoustics_config=dict(layers, input_vocab_size=12_096, output_vocab_size=12_096),
        fine_acoustics_config=dict(
            layers, input_vocab_size=1056, output_vocab_size=1056, n_codes_total=8, n_codes_given=1
        ),
        codec_config=dict(
            model_type="encodec", hidden_size=16, num_filters=4, num_lstm_layers=1, codebook_dim=16
        ),
    )
    torch.manual_seed(0)
    model = BarkModel(config)
    with torch.no_grad():  # EnCodec's codebooks start as zeros: every code would sound alike
        for layer in model.codec_model.quantizer.layers:
            layer.codebook.embed.normal_()
    model.save_pretrained(directory)
    # BarkGenerationConfig cannot save itself in transformers 5 (it lacks attributes that
    # GenerationConfig.validate reads), so it is written as the hub's file is: its to_dict().
    # A short semantic budget (40 tokens, 0.8 s) keeps random-weight generation quick.
    generation = BarkGenerationConfig(
        semantic_config={"max_new_tokens": 40}, coarse_acoustics_config={}, fine_acoustics_config={}
    )
    (directory / "generation_config.json").write_text(json.dumps(generation.to_dict(), indent=1))
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(BARK_VOCAB) + "\n")
    BertTokenizer(str(vocab), do_lower_case=True).save_pretrained(directory)
    table: dict[str, Any] = {"repo_or_path": "tiny/bark"}
    for index, name in enumerate(presets):
        entry = {}
        for key, array in bark_preset(index + 1).items():
            relative = f"speaker_embeddings/{name}_{key}.npy"
            (directory / relative).parent.mkdir(parents=True, exist_ok=True)
            np.save(directory / relative, array)
            entry[key] = relative
        table[name] = entry
    (directory / "speaker_embeddings_path.json").write_text(json.dumps(table))
    return directory


EOT, ENGLISH = 50257, 50259  # multilingual Whisper tokens: <|endoftext|>, <|en|>


def build_whisper(path: Path) -> Path:
    """A tiny multilingual Whisper checkpoint ({"dims", "model_state_dict"}) that
    whisper.load_model(path) accepts.

    Its decoder is wired to end every window at once (EOT outweighs every other token) and to
    detect English: with random weights it could emit timestamp runs that make transcribe
    crawl through a window a frame at a time.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=32,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=32,
        n_text_head=2,
        n_text_layer=1,
    )
    torch.manual_seed(0)
    model = Whisper(dims)
    with torch.no_grad():
        model.decoder.positional_embedding.normal_(0.0, 0.02)  # torch.empty() until loaded
        for block in model.decoder.blocks:  # blocks add nothing: the output is ln(embedding)
            for layer in (block.attn.out, block.cross_attn.out, block.mlp[2]):
                layer.weight.zero_()
                layer.bias.zero_()
        model.decoder.ln.weight.fill_(0.01)  # ln(x) ~ its bias, the same at every step
        model.decoder.ln.bias.zero_()
        model.decoder.ln.bias[0] = 10.0
        embedding = model.decoder.token_embedding.weight
        embedding.normal_(0.0, 0.02)
        embedding[:, 0] = 0.0
        embedding[EOT, 0] = 5.0
        embedding[ENGLISH, 0] = 4.0
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save({"dims": dims.__dict__, "model_state_dict": state}, path)
    return path
