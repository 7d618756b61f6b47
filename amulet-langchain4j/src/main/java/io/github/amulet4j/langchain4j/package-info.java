/**
 * LangChain4j adapters: {@link io.github.amulet4j.langchain4j.AmuletChatModel} and {@link
 * io.github.amulet4j.langchain4j.AmuletStreamingChatModel} over an {@code AmuletBatcher}.
 */
package io.github.amulet4j.langchain4j;
