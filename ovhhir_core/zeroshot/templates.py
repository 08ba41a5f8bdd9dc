"""The chat templates the zero-shot answerer renders prompts with.

SmolVLM2's published ``chat_template.json`` has no video branch (a video item renders as
nothing); its processor renders videos only through its own default template, which it swaps
in when no template is passed. :data:`SMOLVLM_VIDEO_TEMPLATE` is that format, kept here and
passed explicitly: ``User: <video>text<end_of_utterance>\\n`` … ``Assistant:``; the processor
expands ``<video>`` into the frames' timestamps and image tokens.

Qwen3-VL's published template has a video branch and is used as published;
:data:`QWEN3_VL_TINY_TEMPLATE` renders the same text for the messages this project sends (user
and assistant turns of text and videos, no system turn, no tools) and serves the tiny builds.
"""

from __future__ import annotations

SMOLVLM_VIDEO_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'] is string %}{{ ': ' + message['content'] }}{% else %}"
    "{{ ':' if message['content'][0]['type'] == 'image' else ': ' }}"
    "{% for item in message['content'] %}{% if item['type'] == 'text' %}{{ item['text'] }}"
    "{% elif item['type'] == 'image' %}<image>{% elif item['type'] == 'video' %}<video>"
    "{% endif %}{% endfor %}{% endif %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)

QWEN3_VL_TINY_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% elif c['type'] == 'video' %}"
    "<|vision_start|><|video_pad|><|vision_end|>{% endif %}{% endfor %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
